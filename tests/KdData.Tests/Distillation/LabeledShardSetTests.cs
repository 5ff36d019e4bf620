using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Storage;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Distillation;

/// <summary><see cref="ShardSetReader"/> on shards written by the real Labeler engine (<see cref="LabelingRun"/>) from sample PNGs.</summary>
public sealed class LabeledShardSetTests : IDisposable
{
    private const int Images = 12;

    private readonly string _folder = Directory.CreateTempSubdirectory("kd-labeled-set-").FullName;
    private readonly ObjectStoreFactory _factory = TestStores.Factory();
    private readonly CheckpointRecord _teacher = CheckpointSerializer.ParseRecord(File.ReadAllBytes(LabelerSamples.TeacherRecord));

    private string Input => Path.Combine(_folder, "input") + "/";

    private string Output => Path.Combine(_folder, "output") + "/";

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ReadAsync_LabelerOutput_EveryAcceptedViewWithItsImageAndCrop()
    {
        var uploaded = await LabelerSamples.UploadAsync(_factory.Open(Input), Images);
        var summary = await LabelAsync();

        var accepted = await ReadAsync();
        var all = await ReadAsync(o => o.IncludeRejected = true);

        Assert.Equal(summary.AcceptedViews, accepted.Rows.Count);
        Assert.Equal(summary.AcceptedViews + summary.RejectedViews, all.Rows.Count);
        Assert.Equal(Images * 2, all.Rows.Count);
        Assert.True(summary.RejectedViews > 0 && summary.AcceptedViews > 0, "the threshold splits the views");
        Assert.Equal(Path.GetFullPath(Input), Assert.Single(all.Sources).Location);
        Assert.Equal(LabelerSamples.TeacherId(LabelerSamples.TeacherRecord), all.Sets.Single().TeacherId);
        foreach (var row in all.Rows)
        {
            var info = Assert.Single(uploaded, u => u.Key == row.Key);
            Assert.Equal(info.ETag, row.ETag);
            Assert.Equal(LabelerSamples.Image(LabelerSamples.ImageNames.ToList().IndexOf(row.Key)), await all.StoreOf(row).ReadAllBytesAsync(row.Key));
            Assert.True(row.Crop.Box.FitsWithin(28, 28), $"{row.Key} view {row.View}: {row.Crop.Box}");
        }
    }

    [Fact]
    public async Task ReadAsync_ImageReplacedAndLabeledAgain_OnlyTheNewLabelingRemains()
    {
        var uploaded = await LabelerSamples.UploadAsync(_factory.Open(Input), Images);
        await LabelAsync();
        var input = _factory.Open(Input);
        var replaced = uploaded[3].Key;
        await input.DeleteAsync(replaced);
        var changed = await input.CreateAsync(replaced, LabelerSamples.Image(Images + 1));

        var summary = await LabelAsync();
        var result = await ReadAsync(o => o.IncludeRejected = true);

        Assert.Equal(1, summary.Images);
        var rows = result.Rows.Where(r => r.Key == replaced).ToList();
        Assert.Equal([0, 1], rows.Select(r => r.View));
        Assert.All(rows, r => Assert.Equal(changed.ETag, r.ETag));
        Assert.Equal(2, result.Report.Superseded);
        Assert.Equal(Images * 2, result.Rows.Count);
    }

    [Fact]
    public async Task ReadAsync_StudentWithOtherPreprocessingOrClasses_ThrowsNamingAShard()
    {
        await LabelerSamples.UploadAsync(_factory.Open(Input), Images);
        await LabelAsync();
        var reader = new ShardSetReader(_factory, new ShardSelectionOptions { Locations = { Output } });

        var channels = await Assert.ThrowsAsync<InvalidInputException>(() => reader.ReadAsync(_teacher.Classes, _teacher.Preprocessing! with { Channels = 3 }));
        var classes = await Assert.ThrowsAsync<InvalidInputException>(() => reader.ReadAsync([.. _teacher.Classes.Reverse()], _teacher.Preprocessing));

        Assert.Matches(@"teacher=[0-9a-f]{16}/(rejected/)?part-0000of0001-\d{6}\.parquet", channels.Message);
        Assert.Matches(@"teacher=[0-9a-f]{16}/(rejected/)?part-0000of0001-\d{6}\.parquet", classes.Message);
    }

    private async Task<LabelingSummary> LabelAsync()
    {
        using var teacher = await InferenceModel.LoadAsync(_factory, LabelerSamples.TeacherRecord, CPU);
        var options = new LabelingOptions
        {
            Input = Input,
            Output = Output,
            Teacher = LabelerSamples.TeacherRecord,
            BatchSize = 8,
            DecodeWorkers = 2,
            MaxRowsPerShard = 10,
            ViewsPerImage = 2,
            MinConfidence = 0.9,
        };
        return await new LabelingRun(_factory, teacher, options, new PartitionOptions(), new ImageOptions()).RunAsync();
    }

    private Task<PseudoLabelSet> ReadAsync(Action<ShardSelectionOptions>? configure = null)
    {
        var options = new ShardSelectionOptions { Locations = { Output } };
        configure?.Invoke(options);
        return new ShardSetReader(_factory, options).ReadAsync(_teacher.Classes, _teacher.Preprocessing);
    }
}
