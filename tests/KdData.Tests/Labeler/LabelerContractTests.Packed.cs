using System.Globalization;
using KdData.Labeling;
using KdData.PackedImages;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>The Labeler contract over packed inputs: Parquet image tables and WebDataset tars, written by other tools.</summary>
public abstract partial class LabelerContractTests
{
    [Fact]
    public async Task RunAsync_PackedFilesFromOtherTools_EveryImageOnceWithItsLabel()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        using var temp = new TempDirectory();
        var expected = new List<ObjectInfo>();
        expected.AddRange(await UploadParquetAsync(inputStore, temp, "tables/plain.parquet", 0, 20, datasetsLayout: false));
        expected.AddRange(await UploadParquetAsync(inputStore, temp, "tables/hf.parquet", 20, 15, datasetsLayout: true));
        expected.AddRange(await UploadTarAsync(inputStore, temp, "shards/000.tar", 35, 12));
        expected.Add(await inputStore.CreateAsync("loose/one.png", LabelerSamples.Image(47)));
        var notParquet = await inputStore.CreateAsync("tables/notes.parquet", "not a table"u8.ToArray());
        var random = new byte[2048];
        new Random(5).NextBytes(random);
        var notTar = await inputStore.CreateAsync("shards/001.tar", random);
        expected.Add(notParquet);
        expected.Add(notTar);

        var summary = await RunAsync(input, output);

        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(expected, views: 1);
        labels.AssertNoUncommittedFiles();
        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(expected.Count, summary.Images);
        Assert.Equal("not-parquet", Assert.Single(labels.Errors, e => e.Key == notParquet.Key).Reason);
        Assert.Equal("not-tar", Assert.Single(labels.Errors, e => e.Key == notTar.Key).Reason);
        Assert.Equal(2, labels.Errors.Count);
        foreach (var row in labels.Views)
        {
            var index = SampleIndexOf(row.Key);
            Assert.Equal(row.Key == "loose/one.png" ? null : PackedSamples.LabelOf(index), row.Label);
        }

        // The teacher saw the member's own pixels: the soft target of the same image uploaded loose.
        var looseArea = await NewAreaAsync();
        await looseArea.InputStore.CreateAsync("s00040.png", LabelerSamples.Image(40));
        await RunAsync(looseArea.Input, looseArea.Output);
        var loose = Assert.Single((await CommittedLabels.ReadAsync(looseArea.OutputStore, TeacherId)).Views);
        var packed = Assert.Single(labels.Views, r => r.Key == "shards/000.tar#00040.png");
        Assert.Equal(loose.Target.TopKClasses, packed.Target.TopKClasses);
        Assert.All(loose.Target.TopKLogits.Zip(packed.Target.TopKLogits), p => Assert.Equal(p.First, p.Second, 1e-4f)); // other batch neighbours

        Assert.Equal(LabelerSamples.Image(40).Length, packed.Size);
    }

    [Fact]
    public async Task RunAsync_PackedIncremental_NewFileAddsReplacedFileRelabelsUnchangedFileSkipped()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        using var temp = new TempDirectory();
        var table = await UploadParquetAsync(inputStore, temp, "a.parquet", 0, 10, datasetsLayout: false);
        var tar = await UploadTarAsync(inputStore, temp, "b.tar", 10, 10);
        var first = await RunAsync(input, output);
        var second = await RunAsync(input, output);

        var added = await UploadTarAsync(inputStore, temp, "c.tar", 20, 5);
        var path = Path.Combine(temp.Path, "a2.parquet");
        await PackedSamples.WriteParquetAsync(PackedSamples.WriteImages(Path.Combine(temp.Path, "a2"), 30, 10), path, datasetsLayout: false, rowGroupSize: 1000);
        var replaced = await inputStore.ReplaceAsync("a.parquet", await File.ReadAllBytesAsync(path), table[0].ETag);
        var before = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var third = await RunAsync(input, output);

        Assert.Equal((20, 0, 20), (first.Images, second.Images, second.AlreadyLabeled));
        Assert.Equal(0, second.Commits);
        Assert.Equal(15, third.Images);
        Assert.Equal(10, third.AlreadyLabeled);
        var after = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var newRows = after.Views.Except(before.Views).ToList();
        Assert.Equal(
            added.Select(i => i.Key).Concat(Enumerable.Range(0, 10).Select(i => "a.parquet#" + i.ToString(CultureInfo.InvariantCulture))).Order(StringComparer.Ordinal),
            newRows.Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.All(newRows.Where(r => r.Key.StartsWith("a.parquet#", StringComparison.Ordinal)), r => Assert.Equal(replaced.ETag, r.ETag));
        Assert.All(newRows.Where(r => r.Key.StartsWith("a.parquet#", StringComparison.Ordinal)), r => Assert.Equal(PackedSamples.LabelOf(30 + int.Parse(r.Key[10..], CultureInfo.InvariantCulture)), r.Label));
        var current = Members(replaced, Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture))).Concat(tar).Concat(added).ToList();
        after.AssertExactlyOnce(current, views: 1, allowStaleETags: true);
    }

    [Fact]
    public async Task RunAsync_PackedAbortedAtRandomPointsThenRerun_EveryImageExactlyOnce()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "groups.parquet");
        await PackedSamples.WriteParquetRowGroupsAsync(path, 150, rowGroupSize: 10);
        var table = await inputStore.CreateAsync("groups.parquet", await File.ReadAllBytesAsync(path));
        var expected = Members(table, Enumerable.Range(0, 150).Select(i => i.ToString(CultureInfo.InvariantCulture))).ToList();
        expected.AddRange(await UploadTarAsync(inputStore, temp, "shard.tar", 150, 100));
        await AbortAtRandomPointsThenRerunAsync(input, output, outputStore, expected, seed: 11);
    }

    [Theory]
    [InlineData(PartitionUnit.File)]
    [InlineData(PartitionUnit.Image)]
    public async Task RunAsync_PackedTwoPartitions_CoverAllImagesDisjointly(PartitionUnit unit)
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        using var temp = new TempDirectory();
        var expected = new List<ObjectInfo>();
        for (var f = 0; f < 6; f++)
        {
            expected.AddRange(await UploadTarAsync(inputStore, temp, $"shards/{f:D3}.tar", f * 8, 8));
        }

        var zero = await RunAsync(input, output, o => o.PartitionBy = unit, new PartitionOptions { Count = 2, Index = 0 });
        var one = await RunAsync(input, output, o => o.PartitionBy = unit, new PartitionOptions { Count = 2, Index = 1 });

        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(expected, views: 1);
        var keys = labels.KeysByPartition;
        Assert.True(zero.Images > 0 && one.Images > 0, $"partition sizes {zero.Images} and {one.Images}");
        Assert.Equal((zero.Images, one.Images), (keys[0].Count, keys[1].Count));
        Assert.Empty(keys[0].Intersect(keys[1]));
        for (var p = 0; p < 2; p++)
        {
            var partition = p;
            Assert.All(keys[p], k => Assert.Equal(partition, KeyPartitioner.PartitionOf(unit == PartitionUnit.File ? k[..k.IndexOf('#', StringComparison.Ordinal)] : k, 2)));
        }
    }

    private static IEnumerable<ObjectInfo> Members(ObjectInfo file, IEnumerable<string> names) =>
        names.Select(n => new ObjectInfo(PackedFormats.MemberKey(file.Key, n), 0, file.ETag, file.LastModified));

    /// <summary>The sample image index behind a row's key: the tar member's number, the table's first index plus the row, or the loose image's.</summary>
    private static int SampleIndexOf(string key) => key switch
    {
        _ when key.StartsWith("tables/plain.parquet#", StringComparison.Ordinal) => int.Parse(key[(key.IndexOf('#', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture),
        _ when key.StartsWith("tables/hf.parquet#", StringComparison.Ordinal) => 20 + int.Parse(key[(key.IndexOf('#', StringComparison.Ordinal) + 1)..], CultureInfo.InvariantCulture),
        _ when key.StartsWith("shards/000.tar#", StringComparison.Ordinal) => int.Parse(key[15..20], CultureInfo.InvariantCulture),
        _ => 47,
    };

    private static async Task<IReadOnlyList<ObjectInfo>> UploadParquetAsync(IObjectStore store, TempDirectory temp, string key, int first, int count, bool datasetsLayout)
    {
        var path = Path.Combine(temp.Path, Guid.NewGuid().ToString("N") + ".parquet");
        await PackedSamples.WriteParquetAsync(PackedSamples.WriteImages(Path.Combine(temp.Path, Guid.NewGuid().ToString("N")), first, count), path, datasetsLayout, rowGroupSize: 1000);
        var file = await store.CreateAsync(key, await File.ReadAllBytesAsync(path));
        return [.. Members(file, Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)))];
    }

    private static async Task<IReadOnlyList<ObjectInfo>> UploadTarAsync(IObjectStore store, TempDirectory temp, string key, int first, int count)
    {
        var path = Path.Combine(temp.Path, Guid.NewGuid().ToString("N") + ".tar");
        var names = await PackedSamples.WriteTarAsync(Path.Combine(temp.Path, Guid.NewGuid().ToString("N")), path, first, count);
        var file = await store.CreateAsync(key, await File.ReadAllBytesAsync(path));
        return [.. Members(file, names)];
    }
}
