using KdData.Augmentation;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using KdData.Training;

namespace KdData.Tests.Augmentation;

/// <summary>MixUp / CutMix / RandAugment in the distillation data path and the distill command, on the committed sample.</summary>
public sealed class DistillationAugmentTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static readonly TrainingDataOptions Pipeline = new() { DecodeWorkers = 2, ChannelCapacity = 16, PrefetchBatches = 2 };

    private DistillationData Data(DistillationAugmentOptions augment)
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        return new DistillationData(
            [.. samples.Stores.Select(s => new ImageByteCache(s, null))], samples.Labeled, samples.Pseudo, sample.Classes.Count,
            SampleDistillation.ImageOptions, Pipeline, new DistillationMixOptions { UnlabeledRatio = 3 }, 16, seed: 5, augment: augment);
    }

    [Fact]
    public async Task ReadEpochAsync_MixUpAndCutMix_EveryBatchMixedWithinKindAndReplaysExactly()
    {
        var data = Data(new DistillationAugmentOptions { MixUp = true, CutMix = true, RandAugment = true });

        var first = await data.ReadEpochAsync(2).ToListAsync();
        var again = await data.ReadEpochAsync(2).ToListAsync();

        Assert.All(first, b =>
        {
            var mix = Assert.IsType<BatchMix>(b.Mix);
            Assert.All(Enumerable.Range(0, b.Count), i => Assert.Equal(b.Labels[i] >= 0, b.Labels[mix.Partner[i]] >= 0));
            Assert.NotNull(b.TeacherLogits);
        });
        Assert.Contains(first, b => b.Mix!.Kind == BatchMix.MixUp);
        Assert.Contains(first, b => b.Mix!.Kind == BatchMix.CutMix);
        Assert.Equal(first.Count, again.Count);
        for (var k = 0; k < first.Count; k++)
        {
            Assert.Equal(first[k].Pixels, again[k].Pixels);
            Assert.Equal(first[k].Mix!.Lambda, again[k].Mix!.Lambda);
        }
    }

    [Fact]
    public async Task ReadEpochAsync_RandAugmentOnly_ChangesPixelsButNotTheBatchShape()
    {
        var plain = await Data(new DistillationAugmentOptions()).ReadEpochAsync(1).ToListAsync();
        var augmented = await Data(new DistillationAugmentOptions { RandAugment = true, RandAugmentOps = 2, RandAugmentMagnitude = 9 }).ReadEpochAsync(1).ToListAsync();

        Assert.Equal(plain.Count, augmented.Count);
        Assert.All(augmented, b => Assert.Null(b.Mix));
        Assert.Equal(plain.Select(b => b.Pixels.Length), augmented.Select(b => b.Pixels.Length));
        Assert.Equal(plain.SelectMany(b => b.Labels), augmented.SelectMany(b => b.Labels));
        Assert.NotEqual(plain[0].Pixels, augmented[0].Pixels);
    }

    [Fact]
    public async Task Distill_OnlineTeacherWithMixUpAndCutMix_TrainsOnTheTeachersTargetsOfTheMixedImages()
    {
        using var work = new TempDirectory();

        var code = await TrainerCommandLine.RunAsync(
            ["distill", "--dataset", SampleDistillation.DatasetFolder + "/", "--teacher", Fixtures.LabelerSamples.TeacherRecord, "--Trainer:Distill:OnlinePool=true",
             "--output", work.Path, "--epochs", "1", "--batch-size", "128", "--Trainer:Distill:Model:Width=4", "--Torch:Threads=2", "--Trainer:Data:DecodeWorkers=2",
             "--Trainer:Distill:Augment:MixUp=true", "--Trainer:Distill:Augment:CutMix=true", "--Trainer:Distill:Augment:RandAugment=true"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.Success, code);
        var record = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement;
        var lineage = record.GetProperty("training").GetProperty("lineage");
        Assert.Equal("online", lineage.GetProperty("teacher_mode").GetString());
        Assert.True(lineage.GetProperty("augment").GetProperty("mix_up").GetBoolean());
        Assert.True(lineage.GetProperty("augment").GetProperty("cut_mix").GetBoolean());
        var line = Training.TrainingFiles.MetricsLines(work.Path)[^1];
        Assert.True(double.IsFinite(line.GetProperty("kd").GetDouble()));
        Assert.True(double.IsFinite(line.GetProperty("ce").GetDouble()));
    }

    [Fact]
    public async Task Distill_MixUpWithPseudoCe_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await TrainerCommandLine.RunAsync(
            ["distill", "--dataset", SampleDistillation.DatasetFolder + "/", "--shards", sample.ShardLocation, "--output", work.Path, "--objective", "pseudo-ce",
             "--Trainer:Distill:Augment:MixUp=true"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Fact]
    public async Task Distill_BadMixUpAlpha_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await TrainerCommandLine.RunAsync(
            ["distill", "--dataset", SampleDistillation.DatasetFolder + "/", "--shards", sample.ShardLocation, "--output", work.Path,
             "--Trainer:Distill:Augment:MixUp=true", "--Trainer:Distill:Augment:MixUpAlpha=0"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }
}
