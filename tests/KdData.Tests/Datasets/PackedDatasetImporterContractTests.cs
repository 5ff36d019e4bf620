using System.Text.Json;
using KdData.Datasets;
using KdData.Imaging;
using KdData.PackedImages;
using KdData.Storage;
using KdData.Tests.Fixtures;
using KdData.Training;
using Parquet;

namespace KdData.Tests.Datasets;

/// <summary>
/// <c>import --format parquet|tar</c> (issue 21): the three splits written as shards, run the same way against each store
/// backend, and checked against a loose import of the same IDX files into a local folder.
/// </summary>
public abstract class PackedDatasetImporterContractTests : IAsyncLifetime
{
    private readonly string _source = Directory.CreateTempSubdirectory("kd-idx-src-").FullName;
    private readonly string _scratch = Directory.CreateTempSubdirectory("kd-packed-scratch-").FullName;
    private byte[] _trainLabels = [];
    private byte[] _testLabels = [];

    protected IObjectStore Store { get; private set; } = null!;

    protected abstract Task<IObjectStore> CreateStoreAsync();

    public async Task InitializeAsync()
    {
        (_trainLabels, _testLabels) = SyntheticIdx.Write(_source, trainCount: 60, testCount: 12);
        Store = await CreateStoreAsync();
    }

    public virtual Task DisposeAsync()
    {
        Directory.Delete(_source, recursive: true);
        Directory.Delete(_scratch, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>60 train images (16 labeled, 44 pool) and 12 test images; shards of 10 images, row groups of 4 rows.</summary>
    private IdxImportOptions Options(DatasetFormat format, int shardSize = 10, ulong seed = 3)
    {
        var options = IdxImportOptions.FromDirectory(_source);
        options.LabeledFraction = 0.25;
        options.Seed = seed;
        options.Concurrency = 4;
        options.Format = format;
        options.ShardSize = shardSize;
        options.RowGroupSize = 4;
        return options;
    }

    private static async Task<IReadOnlyList<LabelRecord>> ReadRecordsAsync(IObjectStore store, string key) =>
        await DatasetManifest.ReadAsync(await store.ReadAllBytesAsync(key), key);

    private static async Task<List<string>> ListAsync(IObjectStore store, string prefix = "")
    {
        var keys = new List<string>();
        await foreach (var item in store.ListAllAsync(prefix))
        {
            keys.Add(item.Key);
        }

        return keys;
    }

    [Theory]
    [InlineData(DatasetFormat.Parquet)]
    [InlineData(DatasetFormat.Tar)]
    public async Task ImportAsync_Packed_ManifestKeysResolveToTheLooseImportsBytes(DatasetFormat format)
    {
        var looseFolder = Path.Combine(_scratch, "loose");
        var loose = TestStores.Factory().Open(StorageLocation.ForLocalFolder(looseFolder));
        await new IdxDatasetImporter(loose).ImportAsync(Options(DatasetFormat.Loose));

        await new IdxDatasetImporter(Store).ImportAsync(Options(format));

        var images = ImageByteCache.ForStore(Store, Path.Combine(_scratch, "cache"));
        foreach (var file in new[] { DatasetLayout.ManifestKey, DatasetLayout.PoolLabelsKey })
        {
            var expected = await ReadRecordsAsync(loose, file);
            var actual = await ReadRecordsAsync(Store, file);
            Assert.Equal(expected.Count, actual.Count);
            await images.PrepareAsync(actual.Select(r => r.Key));
            for (var i = 0; i < expected.Count; i++)
            {
                // Same rows in the same order: split, label, and the very PNG bytes the loose import wrote.
                Assert.Equal((expected[i].Split, expected[i].Label), (actual[i].Split, actual[i].Label));
                Assert.Contains('#', actual[i].Key);
                Assert.Equal(await loose.ReadAllBytesAsync(expected[i].Key), await images.GetAsync(actual[i].Key));
            }
        }

        // And the pixels are the IDX file's (the loose import's own contract, checked here through the shard).
        var test = (await ReadRecordsAsync(Store, DatasetLayout.ManifestKey)).Where(r => r.Split == DatasetSplits.Test).ToList();
        var decoder = new ImageDecoder(new ImageOptions());
        for (var index = 0; index < test.Count; index += 5)
        {
            using var image = decoder.Decode(await images.GetAsync(test[index].Key), test[index].Key);
            var expected = SyntheticIdx.Image(_testLabels[index], 100_000 + index);
            for (var p = 0; p < expected.Length; p += 37)
            {
                Assert.Equal(expected[p], image.GetPixel(p % SyntheticIdx.Size, p / SyntheticIdx.Size).Red);
            }
        }
    }

    [Theory]
    [InlineData(DatasetFormat.Parquet, ".parquet")]
    [InlineData(DatasetFormat.Tar, ".tar")]
    public async Task ImportAsync_Packed_WritesBoundedShardsOnlyAndKeysAsTheLabelerDoes(DatasetFormat format, string extension)
    {
        var descriptor = await new IdxDatasetImporter(Store).ImportAsync(Options(format));

        // 16 labeled -> 10 + 6, 44 pool -> 4 x 10 + 4, 12 test -> 10 + 2: shards only, no loose PNG anywhere.
        string[] Shards(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => $"{prefix}part-{i:D5}{extension}")];
        Assert.Equal(Shards("train/", 2), await ListAsync(Store, DatasetLayout.TrainPrefix));
        Assert.Equal(Shards("unlabeled/", 5), await ListAsync(Store, DatasetLayout.UnlabeledPrefix));
        Assert.Equal(Shards("test/", 2), await ListAsync(Store, DatasetLayout.TestPrefix));
        Assert.Equal(DatasetDescriptor.FormatName(format), descriptor.Format);
        var json = JsonDocument.Parse(await Store.ReadAllBytesAsync(DatasetLayout.DescriptorKey)).RootElement;
        Assert.Equal(format.ToString().ToLowerInvariant(), json.GetProperty("format").GetString());
        Assert.Equal(10, json.GetProperty("shard_size").GetInt32());

        // Read every shard with the readers the Labeler uses: the key of member m of shard s is "s#m", exactly the
        // manifest's (and pool-labels') key, so soft targets join with the labels.
        var manifest = await ReadRecordsAsync(Store, DatasetLayout.ManifestKey);
        var pool = await ReadRecordsAsync(Store, DatasetLayout.PoolLabelsKey);
        var expected = manifest.Concat(pool).ToDictionary(r => r.Key, r => r.Label);
        var seen = new Dictionary<string, int?>();
        foreach (var shard in await ListAsync(Store))
        {
            if (!shard.Contains("/part-", StringComparison.Ordinal))
            {
                continue; // manifest.parquet, pool-labels.parquet, dataset.json, classes.json
            }

            await foreach (var member in ReadShardAsync(shard, format))
            {
                Assert.Null(member.ErrorReason);
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], member.Bytes![..4]);
                seen.Add(PackedFormats.MemberKey(shard, member.Name), member.Label);
            }
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), seen.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, label) in seen)
        {
            // The pool's shards carry no label at all; train and test carry the manifest's.
            Assert.Equal(key.StartsWith(DatasetLayout.UnlabeledPrefix, StringComparison.Ordinal) ? null : expected[key], label);
        }

        if (format == DatasetFormat.Parquet)
        {
            await CheckParquetWithDuckDbAsync(manifest);
        }
    }

    [Theory]
    [InlineData(DatasetFormat.Parquet)]
    [InlineData(DatasetFormat.Tar)]
    public async Task ImportAsync_PackedRerun_SameSettingsIsANoOp_OtherFormatOrShardSizeIsRefused(DatasetFormat format)
    {
        var first = await new IdxDatasetImporter(Store).ImportAsync(Options(format));
        var etag = (await Store.GetPropertiesAsync(DatasetLayout.ShardKey(DatasetLayout.TrainPrefix, 0, format))).ETag;

        var second = await new IdxDatasetImporter(Store).ImportAsync(Options(format));

        Assert.Equal(first, second with { Classes = first.Classes });
        Assert.Equal(etag, (await Store.GetPropertiesAsync(DatasetLayout.ShardKey(DatasetLayout.TrainPrefix, 0, format))).ETag);
        var other = format == DatasetFormat.Parquet ? DatasetFormat.Tar : DatasetFormat.Parquet;
        var formatError = await Assert.ThrowsAsync<InvalidOperationException>(() => new IdxDatasetImporter(Store).ImportAsync(Options(other)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => new IdxDatasetImporter(Store).ImportAsync(Options(format, shardSize: 20)));
        await Assert.ThrowsAsync<InvalidOperationException>(() => new IdxDatasetImporter(Store).ImportAsync(Options(DatasetFormat.Loose)));
        Assert.Contains($"format {DatasetDescriptor.FormatName(format)}", formatError.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(DatasetFormat.Parquet)]
    [InlineData(DatasetFormat.Tar)]
    public async Task ImportAsync_PackedInterrupted_SameSettingsCompletes_OtherSeedStopsAtTheShard(DatasetFormat format)
    {
        // An interrupted import: every shard written, nothing after. The same import again confirms the shards (same
        // bytes) and completes; one with another seed would pack other images under the same names, so it must stop.
        await new IdxDatasetImporter(Store).ImportAsync(Options(format));
        foreach (var key in new[] { DatasetLayout.DescriptorKey, DatasetLayout.ManifestKey, DatasetLayout.PoolLabelsKey, DatasetLayout.ClassesKey })
        {
            await Store.DeleteAsync(key);
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new IdxDatasetImporter(Store).ImportAsync(Options(format, seed: 4)));
        var descriptor = await new IdxDatasetImporter(Store).ImportAsync(Options(format));

        Assert.Contains("part-00000", error.Message, StringComparison.Ordinal);
        Assert.Equal(16, (await ReadRecordsAsync(Store, DatasetLayout.ManifestKey)).Count(r => r.Split == DatasetSplits.Train));
        Assert.Equal(descriptor.PoolCount, (await ReadRecordsAsync(Store, DatasetLayout.PoolLabelsKey)).Count);
    }

    private async IAsyncEnumerable<PackedMember> ReadShardAsync(string key, DatasetFormat format)
    {
        if (format == DatasetFormat.Parquet)
        {
            await using var stream = await Store.OpenRandomAccessAsync(key, null);
            await using var table = await ParquetImageTable.OpenAsync(stream, key, new PackedReadOptions());
            Assert.Equal(!key.StartsWith(DatasetLayout.UnlabeledPrefix, StringComparison.Ordinal), table.HasLabels);
            await foreach (var member in table.ReadAsync())
            {
                yield return member;
            }
        }
        else
        {
            await using var stream = await Store.OpenReadAsync(key);
            await foreach (var member in TarImageArchive.ReadAsync(stream, key, new PackedReadOptions()))
            {
                yield return member;
            }
        }
    }

    /// <summary>DuckDB (no code shared with Parquet.Net) reads the shards: columns, row groups of at most 4 rows, labels, source indexes.</summary>
    private async Task CheckParquetWithDuckDbAsync(IReadOnlyList<LabelRecord> manifest)
    {
        var folder = Path.Combine(_scratch, "duckdb");
        foreach (var key in (await ListAsync(Store)).Where(k => k.EndsWith(".parquet", StringComparison.Ordinal) && k.Contains("part-", StringComparison.Ordinal)))
        {
            var path = Path.Combine(folder, key);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await Store.ReadAllBytesAsync(key));
            await using var file = File.OpenRead(path);
            await using var reader = await ParquetReader.CreateAsync(file);
            Assert.All(Enumerable.Range(0, reader.RowGroupCount), g => Assert.InRange(reader.OpenRowGroupReader(g).RowCount, 1, 4));
        }

        var duckdb = await DuckDbRunner.GetAsync();
        var glob = (string split) => DuckDbRunner.Literal(Path.Combine(folder, split, "part-*.parquet"));
        var poolColumns = await duckdb.QueryAsync($"DESCRIBE SELECT * FROM read_parquet({glob("unlabeled")})");
        Assert.Equal(["image", "index"], poolColumns.Select(c => c.GetProperty("column_name").GetString()));
        var trainColumns = await duckdb.QueryAsync($"DESCRIBE SELECT * FROM read_parquet({glob("train")})");
        Assert.Equal(["image", "label", "index"], trainColumns.Select(c => c.GetProperty("column_name").GetString()));
        Assert.Equal("BLOB", trainColumns[0].GetProperty("column_type").GetString());

        // The manifest's key "test/part-0000k.parquet#r" is row r of that file (DuckDB's file_row_number), whose label is
        // the manifest's and whose index is the image's in the IDX file (test images in order, 10 per shard).
        var rows = await duckdb.QueryAsync(
            $"SELECT parse_filename(filename) AS file, file_row_number AS row, label, \"index\", octet_length(image) AS bytes " +
            $"FROM read_parquet({glob("test")}, filename = true, file_row_number = true) ORDER BY file, row");
        var labels = manifest.Where(r => r.Split == DatasetSplits.Test).ToDictionary(r => r.Key, r => r.Label);
        Assert.Equal(labels.Count, rows.Count);
        foreach (var row in rows)
        {
            var file = row.GetProperty("file").GetString()!;
            var number = row.GetProperty("row").GetInt64();
            var index = row.GetProperty("index").GetInt32();
            Assert.Equal(labels[$"test/{file}#{number}"], row.GetProperty("label").GetInt32());
            Assert.Equal((int.Parse(file[5..10], System.Globalization.CultureInfo.InvariantCulture) * 10) + number, index);
            Assert.Equal(_testLabels[index], row.GetProperty("label").GetInt32());
        }

        Assert.All(rows, r => Assert.True(r.GetProperty("bytes").GetInt64() > 100));
    }
}
