using System.Text.Json;
using KdData.Datasets;
using KdData.Imaging;
using KdData.Storage;

namespace KdData.Tests.Datasets;

/// <summary>The dataset import, run the same way against each store backend.</summary>
public abstract class IdxDatasetImporterContractTests : IAsyncLifetime
{
    private readonly string _source = Directory.CreateTempSubdirectory("kd-idx-src-").FullName;
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
        return Task.CompletedTask;
    }

    private IdxImportOptions Options(double fraction = 0.25, ulong seed = 3)
    {
        var options = IdxImportOptions.FromDirectory(_source);
        options.LabeledFraction = fraction;
        options.Seed = seed;
        options.Concurrency = 4;
        return options;
    }

    [Fact]
    public async Task ImportAsync_SyntheticIdx_WritesExactPixelsAsPng()
    {
        await new IdxDatasetImporter(Store).ImportAsync(Options());

        var manifest = await DatasetManifest.ReadAsync(await Store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var decoder = new ImageDecoder(new ImageOptions());
        foreach (var row in manifest.Where(r => r.Split == DatasetSplits.Test).Take(3))
        {
            var index = int.Parse(Path.GetFileNameWithoutExtension(row.Key), System.Globalization.CultureInfo.InvariantCulture);
            var expected = SyntheticIdx.Image(_testLabels[index], 100_000 + index);
            using var image = decoder.Decode(await Store.ReadAllBytesAsync(row.Key), row.Key);
            Assert.Equal(SyntheticIdx.Size, image.Width);
            for (var p = 0; p < expected.Length; p += 37)
            {
                var pixel = image.GetPixel(p % SyntheticIdx.Size, p / SyntheticIdx.Size);
                Assert.Equal(expected[p], pixel.Red);
                Assert.Equal(expected[p], pixel.Green);
            }
        }
    }

    [Fact]
    public async Task ImportAsync_Split_IsStratifiedDisjointAndLabelsMatch()
    {
        var descriptor = await new IdxDatasetImporter(Store).ImportAsync(Options());

        var manifest = await DatasetManifest.ReadAsync(await Store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var pool = await DatasetManifest.ReadAsync(await Store.ReadAllBytesAsync(DatasetLayout.PoolLabelsKey), "pool");
        var labeled = manifest.Where(r => r.Split == DatasetSplits.Train).ToList();

        // 60 train images, 15 per class, 25% labeled: 4 per class (3.75 rounded), the rest in the pool.
        Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(4, labeled.Count(r => r.Label == c)));
        Assert.Equal(60 - 16, pool.Count);
        Assert.Equal(12, manifest.Count(r => r.Split == DatasetSplits.Test));
        Assert.Equal((16, 44, 12), (descriptor.LabeledCount, descriptor.PoolCount, descriptor.TestCount));

        var labeledIndices = labeled.Select(r => r.Key[DatasetLayout.TrainPrefix.Length..]).ToHashSet();
        var poolIndices = pool.Select(r => r.Key[DatasetLayout.UnlabeledPrefix.Length..]).ToHashSet();
        Assert.Empty(labeledIndices.Intersect(poolIndices));
        Assert.Equal(60, labeledIndices.Count + poolIndices.Count);
        Assert.All(labeled.Concat(pool), r => Assert.Equal(_trainLabels[int.Parse(r.Key[^9..^4], System.Globalization.CultureInfo.InvariantCulture)], r.Label));

        var listedPool = new List<string>();
        await foreach (var item in Store.ListAllAsync(DatasetLayout.UnlabeledPrefix))
        {
            listedPool.Add(item.Key);
        }

        Assert.Equal(pool.Select(r => r.Key).Order(StringComparer.Ordinal), listedPool);
        var classes = JsonSerializer.Deserialize<string[]>(await Store.ReadAllBytesAsync(DatasetLayout.ClassesKey));
        Assert.Equal(["0", "1", "2", "3"], classes!);
    }

    [Fact]
    public async Task ImportAsync_RerunSameSettings_IsANoOp_OtherSeed_IsRefused()
    {
        var first = await new IdxDatasetImporter(Store).ImportAsync(Options());
        var etag = (await Store.GetPropertiesAsync(DatasetLayout.ManifestKey)).ETag;

        var second = await new IdxDatasetImporter(Store).ImportAsync(Options());

        Assert.Equal(first, second with { Classes = first.Classes });
        Assert.Equal(etag, (await Store.GetPropertiesAsync(DatasetLayout.ManifestKey)).ETag);
        await Assert.ThrowsAsync<InvalidOperationException>(() => new IdxDatasetImporter(Store).ImportAsync(Options(seed: 4)));
    }

    [Fact]
    public async Task ImportAsync_InterruptedBeforeDescriptor_CompletesOnRerun()
    {
        // An interrupted import leaves some images but no dataset.json; a rerun fills in the rest.
        await Store.CreateAsync("test/00000.png", IdxDatasetImporter.EncodePng(await IdxReader.ReadFileAsync(Path.Combine(_source, "t10k-images-idx3-ubyte.gz")), 0));

        var descriptor = await new IdxDatasetImporter(Store).ImportAsync(Options());

        var count = 0;
        await foreach (var item in Store.ListAllAsync())
        {
            count++;
        }

        Assert.Equal(descriptor.LabeledCount + descriptor.PoolCount + descriptor.TestCount + 4, count);
    }
}
