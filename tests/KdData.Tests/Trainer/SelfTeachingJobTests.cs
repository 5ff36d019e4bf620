using System.Text.Json;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer distill --teacher self</c> (FixMatch) in process on the committed sample.</summary>
public sealed class SelfTeachingJobTests
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private static Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(
            ["distill", "--dataset", SampleRoot, "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2", "--Trainer:Distill:Model:Width=8", .. args],
            TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_FixMatch_TrainsOnThePoolWithoutShardsAndRecordsSelfTeaching()
    {
        using var work = new TempDirectory();
        // No shards exist under this location: self-teaching must not read any.
        var code = await RunAsync("--teacher", "self", "--objective", "pseudo-ce", "--Trainer:Objective:PseudoLabelThreshold=0.5",
            "--Trainer:Distill:OnlinePool=true", "--Trainer:Distill:Augment:StrongPool=true", "--mu", "3",
            "--shards", Path.Combine(work.Path, "no-labels") + "/", "--output", work.Path, "--epochs", "1", "--batch-size", "64");

        Assert.Equal(ExitCodes.Success, code);
        var lineage = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement
            .GetProperty("training").GetProperty("lineage");
        Assert.Equal("self", lineage.GetProperty("teacher_mode").GetString());
        Assert.Equal(0, lineage.GetProperty("teachers").GetArrayLength());
        Assert.Equal(480, lineage.GetProperty("pseudo_labeled_images").GetInt32());
        Assert.True(lineage.GetProperty("augment").GetProperty("strong_pool").GetBoolean());
        var line = Training.TrainingFiles.MetricsLines(work.Path)[^1];
        Assert.InRange(line.GetProperty("pseudo_label_rate").GetDouble(), 0, 1);
        Assert.True(double.IsFinite(line.GetProperty("kd").GetDouble()), "the unlabeled part");
    }

    [Theory]
    [InlineData("--Trainer:Distill:Augment:StrongPool=true", "--objective", "pseudo-ce")] // no teacher in the loop
    [InlineData("--teacher", "self", "--objective", "ce")]                                 // nothing reads the teacher
    [InlineData("--teacher", "self", "--Trainer:Objective:Hint:Enabled=true")]             // no teacher features
    public async Task RunAsync_SelfTeachingMisconfigured_ExitsTwoAndWritesNothing(params string[] args)
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "student");

        var code = await RunAsync([.. args, "--output", output, "--epochs", "1"]);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());
    }
}
