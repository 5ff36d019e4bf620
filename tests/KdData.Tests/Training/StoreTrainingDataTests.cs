using KdData.Dataflow;
using KdData.Datasets;
using KdData.Imaging;
using KdData.Storage;
using KdData.Tests.Datasets;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Training;

public sealed class StoreTrainingDataTests : IAsyncLifetime
{
    private readonly string _source = Directory.CreateTempSubdirectory("kd-std-src-").FullName;
    private readonly string _cache = Directory.CreateTempSubdirectory("kd-std-cache-").FullName;
    private string _folder = string.Empty;
    private IObjectStore _store = null!;
    private IReadOnlyList<LabelRecord> _train = [];
    private IReadOnlyList<LabelRecord> _test = [];

    private static ImageOptions Images => new() { OutputSize = 28, ResizeSize = 28, Channels = 1, Mean = [0.5f], Std = [0.25f] };

    public async Task InitializeAsync()
    {
        SyntheticIdx.Write(_source, trainCount: 40, testCount: 30);
        _store = TestStores.Local(out _folder);
        var options = IdxImportOptions.FromDirectory(_source);
        options.LabeledFraction = 1.0;
        await new IdxDatasetImporter(_store).ImportAsync(options);
        var manifest = await DatasetManifest.ReadAsync(await _store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        _train = [.. manifest.Where(r => r.Split == DatasetSplits.Train)];
        _test = [.. manifest.Where(r => r.Split == DatasetSplits.Test)];
    }

    public Task DisposeAsync()
    {
        foreach (var dir in new[] { _source, _cache, _folder })
        {
            Directory.Delete(dir, recursive: true);
        }

        return Task.CompletedTask;
    }

    private StoreTrainingData Data(IReadOnlyList<LabelRecord> items, bool training, int batchSize = 8, string? cache = null, int decodeWorkers = 3,
        int holdDecodedMegabytes = 0) =>
        new(new ImageByteCache(_store, cache), items, Images,
            new TrainingDataOptions { DecodeWorkers = decodeWorkers, FetchConcurrency = 4, ChannelCapacity = 4, PrefetchBatches = 2, HoldDecodedMegabytes = holdDecodedMegabytes },
            batchSize, training, seed: 9);

    private static async Task<List<LabeledBatch>> ReadAll(StoreTrainingData data, int epoch = 1)
    {
        var batches = new List<LabeledBatch>();
        await foreach (var batch in data.ReadEpochAsync(epoch))
        {
            batches.Add(batch);
        }

        return batches;
    }

    [Fact]
    public async Task ReadEpochAsync_Evaluation_YieldsEveryImageOnceInManifestOrder()
    {
        var data = Data(_test, training: false);

        var batches = await ReadAll(data);

        Assert.Equal(data.BatchesPerEpoch, batches.Count);
        Assert.Equal(_test.Select(r => (long)r.Label), batches.SelectMany(b => b.Labels));
        Assert.All(batches.SkipLast(1), b => Assert.Equal(8, b.Count));
        Assert.Equal(30 % 8, batches[^1].Count);

        // The first image's pixels are the normalised source pixels: (v/255 - 0.5) / 0.25.
        var expected = SyntheticIdx.Image(_test[0].Label, 100_000);
        Assert.Equal((1, 28, 28), (batches[0].Channels, batches[0].Height, batches[0].Width));
        for (var p = 0; p < expected.Length; p += 53)
        {
            Assert.Equal(((expected[p] / 255f) - 0.5f) / 0.25f, batches[0].Pixels[p], 4);
        }
    }

    [Fact]
    public async Task ReadEpochAsync_Training_SameEpochReplaysExactly_OtherEpochDiffers()
    {
        // Many workers finish out of order; batches must still come out identical.
        var a = await ReadAll(Data(_train, training: true, decodeWorkers: 4), epoch: 2);
        var b = await ReadAll(Data(_train, training: true, decodeWorkers: 1), epoch: 2);
        var c = await ReadAll(Data(_train, training: true, decodeWorkers: 4), epoch: 3);

        Assert.Equal(a.SelectMany(x => x.Labels), b.SelectMany(x => x.Labels));
        Assert.Equal(a.SelectMany(x => x.Pixels), b.SelectMany(x => x.Pixels));
        Assert.NotEqual(a.SelectMany(x => x.Pixels), c.SelectMany(x => x.Pixels));
        // Shuffled, but still every training label exactly once.
        Assert.Equal(_train.Select(r => (long)r.Label).Order(), a.SelectMany(x => x.Labels).Order());
        Assert.NotEqual(_train.Select(r => (long)r.Label), a.SelectMany(x => x.Labels));
    }

    [Fact]
    public async Task ReadEpochAsync_CorruptAndMissingImages_AreSkippedAndCounted()
    {
        await _store.DeleteAsync(_test[3].Key);
        await _store.DeleteAsync(_test[5].Key);
        await _store.CreateAsync(_test[5].Key, new byte[] { 0x89, 0x50, 0x4E, 0x47, 1, 2, 3 });
        var data = Data(_test, training: false);

        var batches = await ReadAll(data);

        Assert.Equal(2, data.SkippedImages);
        var expected = _test.Where((_, i) => i is not 3 and not 5).Select(r => (long)r.Label);
        Assert.Equal(expected, batches.SelectMany(b => b.Labels));
    }

    [Fact]
    public async Task ReadEpochAsync_StorageFault_FailsOnceNamingTheStage()
    {
        var items = _test.Take(10).Append(new LabelRecord { Key = "../escape.png", Label = 0, Split = DatasetSplits.Test }).ToList();
        var data = Data(items, training: false, batchSize: 2);

        var error = await Assert.ThrowsAsync<StageFailedException>(() => ReadAll(data));

        Assert.Equal("fetch", error.Stage);
        Assert.IsType<InvalidObjectKeyException>(error.InnerException);
    }

    [Fact]
    public async Task GetAsync_WithCache_EscapingKeyIsRejectedBeforeTouchingTheDisk()
    {
        var cache = new ImageByteCache(_store, _cache);
        var outside = Path.Combine(_cache, "..", "outside.png");
        await File.WriteAllBytesAsync(outside, [1, 2, 3]);
        try
        {
            await Assert.ThrowsAsync<InvalidObjectKeyException>(() => cache.GetAsync("../outside.png"));
            await Assert.ThrowsAsync<InvalidObjectKeyException>(() => cache.GetAsync("/etc/passwd"));
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public async Task ReadEpochAsync_WithCache_LaterEpochsDoNotNeedTheStore()
    {
        var data = Data(_test, training: false, cache: _cache);
        var first = await ReadAll(data, epoch: 1);
        foreach (var row in _test)
        {
            await _store.DeleteAsync(row.Key);
        }

        var second = await ReadAll(data, epoch: 2);

        Assert.Equal(0, data.SkippedImages);
        Assert.Equal(first.SelectMany(b => b.Pixels), second.SelectMany(b => b.Pixels));
    }

    [Fact]
    public async Task ReadEpochAsync_ConsumerStopsEarly_LeavesNothingRunning()
    {
        var data = Data(_train, training: true, batchSize: 2);
        var seen = 0;
        await foreach (var batch in data.ReadEpochAsync(1))
        {
            if (++seen == 2)
            {
                break;
            }
        }

        // A second full epoch still works: the first one's workers were cancelled and awaited.
        Assert.Equal(2, seen);
        Assert.Equal(_train.Count, (await ReadAll(data)).Sum(b => b.Count));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadEpochAsync_HoldingDecodedImages_SameBatchesAndLaterEpochsNeedNoFiles(bool training)
    {
        var items = training ? _train : _test;
        var reference = Data(items, training);
        var held = Data(items, training, holdDecodedMegabytes: 1);
        var expected = new[] { await ReadAll(reference, epoch: 1), await ReadAll(reference, epoch: 2) };

        var first = await ReadAll(held, epoch: 1);
        Assert.Equal(items.Count, held.HeldImages);
        // Every image is in memory now: the dataset's files are not needed any more.
        Directory.Delete(_folder, recursive: true);
        Directory.CreateDirectory(_folder);
        var second = await ReadAll(held, epoch: 2);

        Assert.Equal(0, held.SkippedImages);
        foreach (var (want, got) in expected.Zip([first, second]))
        {
            Assert.Equal(want.SelectMany(b => b.Labels), got.SelectMany(b => b.Labels));
            Assert.Equal(want.SelectMany(b => b.Pixels), got.SelectMany(b => b.Pixels));
        }
        Assert.Equal(0, reference.HeldImages);
    }

    [Fact]
    public async Task ReadEpochAsync_SetLargerThanTheHoldLimit_HoldsNothing()
    {
        // 400 items of 28x28 floats are 1.2 MiB, above a limit of 1 MiB.
        var many = Enumerable.Range(0, 400).Select(i => _train[i % _train.Count]).ToList();
        var data = Data(many, training: false, holdDecodedMegabytes: 1);

        Assert.Equal(many.Count, (await ReadAll(data)).Sum(b => b.Count));
        Assert.Equal(0, data.HeldImages);
    }
}
