using KdData.SoftTargets;
using KdData.Tests.Fixtures;

namespace KdData.Tests.SoftTargets;

public sealed class ShardRoundTripTests
{
    [Fact]
    public async Task WriteThenRead_25000RowsInGroupsOf10000_ThreeRowGroupsAndEqualRowsAndMetadata()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard-00000.parquet");
        var rows = SampleRows.SoftTargets(25_000);
        var metadata = SampleRows.Metadata();

        await using (var stream = File.Create(path))
        {
            await using var writer = await SoftTargetShard.CreateWriterAsync(stream, metadata, new ShardOptions { RowGroupSize = 10_000 });
            await writer.WriteAsync(rows);
            await writer.CompleteAsync();
            Assert.Equal(3, writer.RowGroupCount);
            Assert.Equal(25_000, writer.RowCount);
        }

        await using var reader = await SoftTargetShard.OpenReaderAsync(path);
        Assert.Equal(3, reader.RowGroupCount);
        Assert.Equal(25_000, reader.RowCount);
        Assert.Equal(metadata.OrderBy(kv => kv.Key), reader.Metadata.OrderBy(kv => kv.Key));
        Assert.Equal(10_000, (await reader.ReadRowGroupAsync(1)).Count);
        Assert.Equal(5_000, (await reader.ReadRowGroupAsync(2)).Count);
        var read = await reader.ReadAllAsync();
        Assert.Equal(rows.Count, read.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            // Record equality covers key, etag, size, view, crop, flip and the soft target's lists element-wise.
            Assert.True(rows[i] == read[i], $"row {i} differs: wrote {rows[i]}, read {read[i]}");
        }

        Assert.Equal(Enumerable.Range(1, SampleRows.NumClasses), read.Select(r => r.Target.K).Distinct().Order());
    }

    [Fact]
    public async Task ReadRowsAsync_StreamedByRowGroup_YieldsRowsInOrder()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard.parquet");
        var rows = SampleRows.SoftTargets(25);
        await WriteAsync(path, rows, new ShardOptions { RowGroupSize = 10 });

        await using var reader = await SoftTargetShard.OpenReaderAsync(path);
        var keys = new List<string>();
        await foreach (var row in reader.ReadRowsAsync())
        {
            keys.Add(row.Key);
        }

        Assert.Equal(3, reader.RowGroupCount);
        Assert.Equal(rows.Select(r => r.Key), keys);
    }

    [Fact]
    public async Task CompleteAsync_NoRows_WritesValidEmptyShardWithMetadata()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "empty.parquet");

        await WriteAsync(path, [], new ShardOptions());

        await using var reader = await SoftTargetShard.OpenReaderAsync(path);
        Assert.Equal(0, reader.RowCount);
        Assert.Empty(await reader.ReadAllAsync());
        Assert.Equal("1", reader.Metadata["kddata.version"]);
    }

    [Fact]
    public async Task WriteAsync_FullRowGroup_IsWrittenToTheStreamBeforeCompletion()
    {
        using var stream = new MemoryStream();
        await using var writer = await SoftTargetShard.CreateWriterAsync(stream, null, new ShardOptions { RowGroupSize = 100 });
        var rows = SampleRows.SoftTargets(150);

        await writer.WriteAsync(rows.Take(99));
        var beforeFlush = stream.Length;
        await writer.WriteAsync(rows[99]);

        Assert.Equal(1, writer.RowGroupCount);
        // 100 rows of ~15 columns cannot fit in fewer than 1 KB even compressed; the header alone is a few bytes.
        Assert.True(stream.Length - beforeFlush > 1024, $"stream grew by only {stream.Length - beforeFlush} bytes");
    }

    [Fact]
    public async Task WriteAsync_BeyondMaxRowsPerShard_ThrowsAndShardStaysValid()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "full.parquet");
        var rows = SampleRows.SoftTargets(6);
        await using (var stream = File.Create(path))
        {
            await using var writer = await SoftTargetShard.CreateWriterAsync(stream, null, new ShardOptions { RowGroupSize = 2, MaxRowsPerShard = 5 });
            await writer.WriteAsync(rows.Take(5));
            Assert.True(writer.IsFull);

            var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => writer.WriteAsync(rows[5]));
            Assert.Contains("5", ex.Message, StringComparison.Ordinal);
            await writer.CompleteAsync();
        }

        await using var reader = await SoftTargetShard.OpenReaderAsync(path);
        Assert.Equal(rows.Take(5), await reader.ReadAllAsync());
    }

    [Fact]
    public async Task DisposeAsync_WithoutComplete_KeepsOnlyFullRowGroups()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "partial.parquet");
        await using (var stream = File.Create(path))
        {
            await using var writer = await SoftTargetShard.CreateWriterAsync(stream, null, new ShardOptions { RowGroupSize = 10 });
            await writer.WriteAsync(SampleRows.SoftTargets(15));
        }

        await using var reader = await SoftTargetShard.OpenReaderAsync(path);
        Assert.Equal(10, reader.RowCount);
    }

    [Fact]
    public async Task WriteAsync_InvalidRow_ThrowsNamingTheKey()
    {
        using var stream = new MemoryStream();
        await using var writer = await SoftTargetShard.CreateWriterAsync(stream, null, new ShardOptions());
        var row = SampleRows.SoftTargets(1)[0] with { Size = -1 };

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => writer.WriteAsync(row));

        Assert.Contains(row.Key, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, writer.RowCount);
    }

    [Fact]
    public async Task ErrorShard_WriteThenRead_RoundTripsRowsIncludingNullView()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "errors.parquet");
        var rows = SampleRows.Errors();
        await using (var stream = File.Create(path))
        {
            await using var writer = await ErrorShard.CreateWriterAsync(stream, SampleRows.Metadata(), new ShardOptions { RowGroupSize = 2 });
            await writer.WriteAsync(rows);
            await writer.CompleteAsync();
        }

        await using var reader = await ErrorShard.OpenReaderAsync(path);
        Assert.Equal(2, reader.RowGroupCount);
        Assert.Equal(rows, await reader.ReadAllAsync());
        Assert.Equal(SampleRows.Metadata()["kddata.teacher"], reader.Metadata["kddata.teacher"]);
    }

    [Fact]
    public async Task OpenReaderAsync_WrongTableOrNotParquet_ThrowsInvalidDataNamingTheFile()
    {
        using var temp = new TempDirectory();
        var errors = Path.Combine(temp.Path, "errors.parquet");
        await using (var stream = File.Create(errors))
        {
            await using var writer = await ErrorShard.CreateWriterAsync(stream, null, new ShardOptions());
            await writer.WriteAsync(SampleRows.Errors());
            await writer.CompleteAsync();
        }

        var text = Path.Combine(temp.Path, "not-parquet.parquet");
        await File.WriteAllTextAsync(text, "this is not a parquet file at all");

        var wrongTable = await Assert.ThrowsAsync<InvalidDataException>(() => SoftTargetShard.OpenReaderAsync(errors));
        Assert.Contains(errors, wrongTable.Message, StringComparison.Ordinal);
        Assert.Contains("crop_x", wrongTable.Message, StringComparison.Ordinal);
        var notParquet = await Assert.ThrowsAsync<InvalidDataException>(() => SoftTargetShard.OpenReaderAsync(text));
        Assert.Contains(text, notParquet.Message, StringComparison.Ordinal);
    }

    internal static async Task WriteAsync(string path, IEnumerable<SoftTargetRow> rows, ShardOptions options)
    {
        await using var stream = File.Create(path);
        await using var writer = await SoftTargetShard.CreateWriterAsync(stream, SampleRows.Metadata(), options);
        await writer.WriteAsync(rows);
        await writer.CompleteAsync();
    }
}
