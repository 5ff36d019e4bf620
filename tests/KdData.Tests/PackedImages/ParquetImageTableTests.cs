using KdData.PackedImages;
using KdData.Tests.Fixtures;

namespace KdData.Tests.PackedImages;

public sealed class ParquetImageTableTests
{
    private static readonly PackedReadOptions Options = new();

    [Theory]
    [InlineData(false, "INTEGER")]
    [InlineData(true, "BIGINT")]
    public async Task ReadAsync_TableWrittenByDuckDb_MembersAreTheImagesInRowOrderWithTheirLabels(bool datasetsLayout, string labelType)
    {
        using var temp = new TempDirectory();
        var images = PackedSamples.WriteImages(Path.Combine(temp.Path, "png"), 0, 25);
        var path = Path.Combine(temp.Path, "table.parquet");
        await PackedSamples.WriteParquetAsync(images, path, datasetsLayout, rowGroupSize: 10, labelType: labelType);

        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, "table.parquet", Options);
        var members = await table.ReadAsync().ToListAsync();

        Assert.Equal(25, table.RowCount);
        Assert.True(table.HasLabels);
        Assert.Equal(Enumerable.Range(0, 25).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), members.Select(m => m.Name));
        for (var i = 0; i < 25; i++)
        {
            Assert.Equal(LabelerSamples.Image(i), members[i].Bytes);
            Assert.Equal(PackedSamples.LabelOf(i), members[i].Label);
            Assert.Null(members[i].ErrorReason);
        }
    }

    [Fact]
    public async Task ReadAsync_NoLabelColumn_MembersHaveNoLabel()
    {
        using var temp = new TempDirectory();
        var images = PackedSamples.WriteImages(Path.Combine(temp.Path, "png"), 0, 3);
        var path = Path.Combine(temp.Path, "pool.parquet");
        await PackedSamples.WriteParquetAsync(images, path, datasetsLayout: false, rowGroupSize: 10, withLabels: false);

        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, "pool.parquet", Options);

        Assert.False(table.HasLabels);
        Assert.All(await table.ReadAsync().ToListAsync(), m => Assert.Null(m.Label));
    }

    [Fact]
    public async Task ReadAsync_RowGroupsWhoseRowsAreAllDone_AreSkippedUnread()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "table.parquet");
        await PackedSamples.WriteParquetRowGroupsAsync(path, 40, rowGroupSize: 10);

        async Task<(List<PackedMember> Members, long Bytes)> ReadAsync(Func<long, bool>? isDone)
        {
            await using var stream = new ReadCountingStream(File.OpenRead(path));
            await using var table = await ParquetImageTable.OpenAsync(stream, "table.parquet", Options);
            return (await table.ReadAsync(isDone).ToListAsync(), stream.BytesRead);
        }

        var all = await ReadAsync(null);
        var lastGroup = await ReadAsync(row => row < 30);
        var oneRowLeft = await ReadAsync(row => row != 5);

        Assert.Equal(40, all.Members.Count);
        Assert.Equal(Enumerable.Range(30, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lastGroup.Members.Select(m => m.Name));
        Assert.Equal("5", Assert.Single(oneRowLeft.Members).Name);
        Assert.Equal(LabelerSamples.Image(5), oneRowLeft.Members[0].Bytes);
        // Three of four row groups unread: well under half the bytes (the footer is read either way).
        Assert.True(lastGroup.Bytes < all.Bytes / 2, $"read {lastGroup.Bytes} of {all.Bytes} bytes for one row group of four");
        Assert.True(oneRowLeft.Bytes < all.Bytes / 2, $"read {oneRowLeft.Bytes} of {all.Bytes} bytes for one row group of four");
    }

    [Fact]
    public async Task ReadAsync_NullImageCell_IsAnErrorMemberAndTheRestAreRead()
    {
        using var temp = new TempDirectory();
        var images = PackedSamples.WriteImages(Path.Combine(temp.Path, "png"), 0, 4);
        var path = Path.Combine(temp.Path, "holes.parquet");
        var duckDb = await DuckDbRunner.GetAsync();
        await duckDb.QueryAsync(
            $"COPY (SELECT CASE WHEN filename LIKE '%s00002_%' THEN NULL ELSE content END AS image FROM read_blob({DuckDbRunner.Literal(Path.Combine(images, "*.png"))}) ORDER BY filename) " +
            $"TO {DuckDbRunner.Literal(path)} (FORMAT parquet)");

        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, "holes.parquet", Options);
        var members = await table.ReadAsync().ToListAsync();

        Assert.Equal(4, members.Count);
        Assert.Equal("null-image", members[2].ErrorReason);
        Assert.Null(members[2].Bytes);
        Assert.Contains("holes.parquet", members[2].ErrorDetail, StringComparison.Ordinal);
        Assert.Equal(LabelerSamples.Image(3), members[3].Bytes);
    }

    [Fact]
    public async Task OpenAsync_NotParquet_ThrowsNotParquetNamingTheFile()
    {
        using var stream = new MemoryStream("this is a text file, not a table\n"u8.ToArray());

        var e = await Assert.ThrowsAsync<PackedFileException>(() => ParquetImageTable.OpenAsync(stream, "shards/notes.parquet", Options));

        Assert.Equal("not-parquet", e.Reason);
        Assert.Contains("shards/notes.parquet", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("content AS picture", "no-image-column", "picture")]
    [InlineData("filename AS image", "image-column-type", "not binary")]
    [InlineData("content AS image, filename AS label", "label-column-type", "label")]
    public async Task OpenAsync_WrongColumns_ThrowsNamingWhatWasFound(string select, string reason, string mentioned)
    {
        using var temp = new TempDirectory();
        var images = PackedSamples.WriteImages(Path.Combine(temp.Path, "png"), 0, 2);
        var path = Path.Combine(temp.Path, "odd.parquet");
        var duckDb = await DuckDbRunner.GetAsync();
        await duckDb.QueryAsync($"COPY (SELECT {select} FROM read_blob({DuckDbRunner.Literal(Path.Combine(images, "*.png"))})) TO {DuckDbRunner.Literal(path)} (FORMAT parquet)");

        await using var stream = File.OpenRead(path);
        var e = await Assert.ThrowsAsync<PackedFileException>(() => ParquetImageTable.OpenAsync(stream, "odd.parquet", Options));

        Assert.Equal(reason, e.Reason);
        Assert.Contains("odd.parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains(mentioned, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_RowGroupOverTheLimit_ThrowsInsteadOfLoadingIt()
    {
        using var temp = new TempDirectory();
        var images = PackedSamples.WriteImages(Path.Combine(temp.Path, "png"), 0, 20);
        var path = Path.Combine(temp.Path, "big.parquet");
        await PackedSamples.WriteParquetAsync(images, path, datasetsLayout: false, rowGroupSize: 100_000);

        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, "big.parquet", new PackedReadOptions { MaxRowGroupBytes = 2_000 });
        var e = await Assert.ThrowsAsync<PackedFileException>(async () => await table.ReadAsync().ToListAsync());

        Assert.Equal("row-group-too-large", e.Reason);
        Assert.Contains("row group 0", e.Message, StringComparison.Ordinal);
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

        await using var stream = File.OpenRead(path);
        await using var table = await ParquetImageTable.OpenAsync(stream, "written.parquet", Options);
        var members = await table.ReadAsync().ToListAsync();
        var duckdb = await DuckDbRunner.GetAsync();
        var groups = await duckdb.QueryAsync($"SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata({DuckDbRunner.Literal(path)})");

        Assert.Equal(images.Select(i => i.Bytes), members.Select(m => m.Bytes));
        Assert.Equal(images.Select(i => (int?)i.Label), members.Select(m => m.Label));
        Assert.Equal(3, groups[0].GetProperty("n").GetInt64());
    }
}
