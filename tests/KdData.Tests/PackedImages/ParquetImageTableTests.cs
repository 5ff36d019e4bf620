using KdData.PackedImages;
using KdData.Tests.Infrastructure;
using KdData.Tests.Models;

namespace KdData.Tests.PackedImages;

/// <summary><see cref="ParquetImageTable"/> on image tables written by another engine (DuckDB) and by <see cref="ParquetImageTableWriter"/>.</summary>
public sealed class ParquetImageTableTests
{
    private static async Task<List<PackedMember>> ReadAllAsync(string path, PackedReadOptions? options = null)
    {
        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, Path.GetFileName(path), options ?? new PackedReadOptions());
        var members = new List<PackedMember>();
        await foreach (var member in table.ReadAsync())
        {
            members.Add(member);
        }

        return members;
    }

    [Fact]
    public async Task ReadAsync_DuckDbBlobColumnAndIntegerLabels_ReadsEveryRow()
    {
        // A plain BLOB column is BYTE_ARRAY without a logical type, which Parquet.Net 6 types as ReadOnlyMemory<byte>:
        // the table used to refuse it as "not binary image bytes".
        using var work = new TempDirectory();
        var path = Path.Combine(work.Path, "images.parquet");
        var duckdb = await DuckDbRunner.GetAsync();
        await duckdb.QueryAsync(
            $"COPY (SELECT ('\\x89PNG' || i)::BLOB AS image, (i % 3)::INTEGER AS label FROM range(5) t(i)) TO {DuckDbRunner.Literal(path)} (FORMAT parquet, ROW_GROUP_SIZE 2)");

        var members = await ReadAllAsync(path);

        Assert.Equal(["0", "1", "2", "3", "4"], members.Select(m => m.Name));
        Assert.Equal([0, 1, 2, 0, 1], members.Select(m => m.Label));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', (byte)'3'], members[3].Bytes);
    }

    [Fact]
    public async Task ReadAsync_HuggingFaceImageStruct_ReadsTheBytesField()
    {
        using var work = new TempDirectory();
        var path = Path.Combine(work.Path, "hf.parquet");
        var duckdb = await DuckDbRunner.GetAsync();
        await duckdb.QueryAsync(
            $"COPY (SELECT {{'bytes': ('img' || i)::BLOB, 'path': 'a' || i || '.png'}} AS image, i::BIGINT AS label FROM range(3) t(i)) TO {DuckDbRunner.Literal(path)} (FORMAT parquet)");

        var members = await ReadAllAsync(path);

        Assert.Equal("img2"u8.ToArray(), members[2].Bytes);
        Assert.Equal([0, 1, 2], members.Select(m => m.Label));
    }

    [Fact]
    public async Task WriteAsync_ThenRead_RoundTripsImagesLabelsAndRowGroups()
    {
        using var work = new TempDirectory();
        var path = Path.Combine(work.Path, "written.parquet");
        var images = Enumerable.Range(0, 7).Select(i => new PackedImage(100 + i, [(byte)i, 1, 2], i % 2)).ToList();
        await using (var file = File.Create(path))
        {
            Assert.Equal(["0", "1", "2", "3", "4", "5", "6"], await ParquetImageTableWriter.WriteAsync(file, images, withLabels: true, rowGroupSize: 3));
        }

        var members = await ReadAllAsync(path);
        var duckdb = await DuckDbRunner.GetAsync();
        var groups = await duckdb.QueryAsync($"SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata({DuckDbRunner.Literal(path)})");

        Assert.Equal(images.Select(i => i.Bytes), members.Select(m => m.Bytes));
        Assert.Equal(images.Select(i => (int?)i.Label), members.Select(m => m.Label));
        Assert.Equal(3, groups[0].GetProperty("n").GetInt64());
    }
}
