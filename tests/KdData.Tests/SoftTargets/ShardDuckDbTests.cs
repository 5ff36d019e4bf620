using System.Text.Json;
using KdData.SoftTargets;
using KdData.Tests.Fixtures;

namespace KdData.Tests.SoftTargets;

/// <summary>Proves another engine (DuckDB) reads our shards: types, lists, row groups, compression, metadata.</summary>
public sealed class ShardDuckDbTests
{
    [Fact]
    public async Task DuckDb_ReadsSoftTargetShard_AggregatesAndListsMatchWrittenRows()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard.parquet");
        var rows = SampleRows.SoftTargets(2_500);
        await ShardRoundTripTests.WriteAsync(path, rows, new ShardOptions { RowGroupSize = 1_000 });
        var duckDb = await DuckDbRunner.GetAsync();
        var file = DuckDbRunner.Literal(path);

        var summary = Assert.Single(await duckDb.QueryAsync($"""
            SELECT count(*)::INTEGER AS n,
                   sum(confidence)::DOUBLE AS confidence_sum,
                   sum(entropy)::DOUBLE AS entropy_sum,
                   max(len(topk_logits))::INTEGER AS max_k,
                   sum(len(topk_classes))::INTEGER AS class_count,
                   sum(list_extract(topk_classes, 1))::INTEGER AS first_class_sum,
                   sum(list_sum(topk_logits))::DOUBLE AS logit_sum,
                   sum(predicted)::INTEGER AS predicted_sum,
                   sum(size)::DOUBLE AS size_sum,
                   sum(crop_width)::INTEGER AS width_sum,
                   count(*) FILTER (WHERE flip)::INTEGER AS flipped,
                   typeof(any_value(topk_classes)) AS classes_type,
                   typeof(any_value(topk_logits)) AS logits_type
            FROM read_parquet({file})
            """));

        Assert.Equal(rows.Count, summary.GetProperty("n").GetInt32());
        Assert.Equal(rows.Sum(r => (double)r.Target.Confidence), summary.GetProperty("confidence_sum").GetDouble(), 3);
        Assert.Equal(rows.Sum(r => (double)r.Target.Entropy), summary.GetProperty("entropy_sum").GetDouble(), 3);
        Assert.Equal(rows.Max(r => r.Target.K), summary.GetProperty("max_k").GetInt32());
        Assert.Equal(rows.Sum(r => r.Target.K), summary.GetProperty("class_count").GetInt32());
        Assert.Equal(rows.Sum(r => r.Target.TopKClasses[0]), summary.GetProperty("first_class_sum").GetInt32());
        Assert.Equal(rows.Sum(r => r.Target.TopKLogits.Sum(z => (double)z)), summary.GetProperty("logit_sum").GetDouble(), 2);
        Assert.Equal(rows.Sum(r => r.Target.Predicted), summary.GetProperty("predicted_sum").GetInt32());
        Assert.Equal(rows.Sum(r => (double)r.Size), summary.GetProperty("size_sum").GetDouble());
        Assert.Equal(rows.Sum(r => r.Crop.Box.Width), summary.GetProperty("width_sum").GetInt32());
        Assert.Equal(rows.Count(r => r.Crop.FlipHorizontal), summary.GetProperty("flipped").GetInt32());
        Assert.Equal("INTEGER[]", summary.GetProperty("classes_type").GetString());
        Assert.Equal("FLOAT[]", summary.GetProperty("logits_type").GetString());

        // One row in full: lists element by element, in order.
        var expected = rows[1_234];
        var row = Assert.Single(await duckDb.QueryAsync($"""
            SELECT key, etag, view, crop_x, crop_y, crop_height, flip, logsumexp, topk_classes, topk_logits
            FROM read_parquet({file}) WHERE key = {DuckDbRunner.Literal(expected.Key)} AND view = {expected.View}
            """));
        Assert.Equal(expected.ETag, row.GetProperty("etag").GetString());
        Assert.Equal(expected.Crop.Box.X, row.GetProperty("crop_x").GetInt32());
        Assert.Equal(expected.Crop.Box.Y, row.GetProperty("crop_y").GetInt32());
        Assert.Equal(expected.Crop.Box.Height, row.GetProperty("crop_height").GetInt32());
        Assert.Equal(expected.Crop.FlipHorizontal, row.GetProperty("flip").GetBoolean());
        Assert.Equal(expected.Target.LogSumExp, (float)row.GetProperty("logsumexp").GetDouble());
        Assert.Equal(expected.Target.TopKClasses, row.GetProperty("topk_classes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(expected.Target.TopKLogits, row.GetProperty("topk_logits").EnumerateArray().Select(e => (float)e.GetDouble()));
    }

    [Fact]
    public async Task DuckDb_ReadsShardFooter_RowGroupsZstdAndKeyValueMetadata()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard.parquet");
        await ShardRoundTripTests.WriteAsync(path, SampleRows.SoftTargets(25), new ShardOptions { RowGroupSize = 10 });
        var duckDb = await DuckDbRunner.GetAsync();
        var file = DuckDbRunner.Literal(path);

        var groups = await duckDb.QueryAsync($"""
            SELECT row_group_id::INTEGER AS id, any_value(row_group_num_rows)::INTEGER AS rows,
                   count(DISTINCT compression)::INTEGER AS codecs, any_value(compression) AS codec
            FROM parquet_metadata({file}) GROUP BY row_group_id ORDER BY row_group_id
            """);
        Assert.Equal([10, 10, 5], groups.Select(g => g.GetProperty("rows").GetInt32()));
        Assert.All(groups, g => Assert.Equal("ZSTD", g.GetProperty("codec").GetString()));
        Assert.All(groups, g => Assert.Equal(1, g.GetProperty("codecs").GetInt32()));

        var metadata = await duckDb.QueryAsync($"SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata({file})");
        var actual = metadata.ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("value").GetString()!);
        foreach (var (key, value) in SampleRows.Metadata())
        {
            Assert.Equal(value, actual[key]);
        }

        using var teacher = JsonDocument.Parse(actual["kddata.teacher"]);
        Assert.Equal(7, teacher.RootElement.GetProperty("classes").GetInt32());
    }

    [Fact]
    public async Task DuckDb_ReadsEmptyShard_CountIsZeroAndColumnsExist()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "empty.parquet");
        await ShardRoundTripTests.WriteAsync(path, [], new ShardOptions());
        var duckDb = await DuckDbRunner.GetAsync();

        var result = Assert.Single(await duckDb.QueryAsync(
            $"SELECT count(*)::INTEGER AS n, count(topk_logits)::INTEGER AS lists FROM read_parquet({DuckDbRunner.Literal(path)})"));

        Assert.Equal(0, result.GetProperty("n").GetInt32());
        Assert.Equal(0, result.GetProperty("lists").GetInt32());
    }

    [Fact]
    public async Task DuckDb_ReadsErrorTable_NullViewIsNull()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "errors.parquet");
        var rows = SampleRows.Errors();
        await using (var stream = File.Create(path))
        {
            await using var writer = await ErrorShard.CreateWriterAsync(stream, null, new ShardOptions());
            await writer.WriteAsync(rows);
            await writer.CompleteAsync();
        }

        var duckDb = await DuckDbRunner.GetAsync();
        var read = await duckDb.QueryAsync(
            $"SELECT key, etag, size::INTEGER AS size, stage, reason, detail, view FROM read_parquet({DuckDbRunner.Literal(path)}) ORDER BY key");

        Assert.Equal(rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Key), read.Select(r => r.GetProperty("key").GetString()));
        foreach (var (expected, actual) in rows.OrderBy(r => r.Key, StringComparer.Ordinal).Zip(read))
        {
            Assert.Equal(expected.ETag, actual.GetProperty("etag").GetString());
            Assert.Equal(expected.Size, actual.GetProperty("size").GetInt32());
            Assert.Equal(expected.Stage, actual.GetProperty("stage").GetString());
            Assert.Equal(expected.Reason, actual.GetProperty("reason").GetString());
            Assert.Equal(expected.Detail, actual.GetProperty("detail").GetString());
            var view = actual.GetProperty("view");
            Assert.Equal(expected.View, view.ValueKind == JsonValueKind.Null ? null : view.GetInt32());
        }
    }

    [Fact]
    public async Task QueryAsync_InvalidSql_ThrowsWithDuckDbErrorInMessage()
    {
        var duckDb = await DuckDbRunner.GetAsync();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => duckDb.QueryAsync("SELECT * FROM no_such_table_xyz"));

        Assert.Contains("no_such_table_xyz", ex.Message, StringComparison.Ordinal);
    }
}
