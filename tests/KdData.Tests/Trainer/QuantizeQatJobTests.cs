using System.Text.Json.Nodes;
using KdData.Hosting;
using KdData.Models;
using KdData.Records;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer quantize --method qat</c> on the committed sample: the teacher's convnet trained one epoch with KD from the sample's shards.</summary>
public sealed class QuantizeQatJobTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(
            ["quantize", "--method", "qat", "--dataset", SampleRoot, "--shards", sample.ShardLocation, "--threads", "1", "--calibration-images", "64",
                "--qat-epochs", "1", "--Torch:Threads=1", .. args],
            TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_SampleTeacher_QatCheckpointNamesParentAndInt8AgreesWithFp32()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path);

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)))!;
        Assert.Equal("qat", report["method"]!.GetValue<string>());
        Assert.Equal(1, report["qat"]!["epochs"]!.GetValue<int>());
        Assert.True(report["top1_agreement"]!.GetValue<double>() >= 0.95, $"agreement {report["top1_agreement"]}");
        Assert.True(report["size_ratio"]!.GetValue<double>() <= 0.3);
        // The check compares the integer kernels with the same QDQ graph computed in float: with 7-bit weights they agree
        // on (nearly) every image on any CPU.
        Assert.Equal("the int8 model's QDQ graph computed in float", report["agreement_check"]!["reference"]!.GetValue<string>());
        Assert.True(report["agreement_check"]!["top1_agreement"]!.GetValue<double>() >= 0.99, $"check agreement {report["agreement_check"]}");
        Assert.True(report["agreement_check"]!["passed"]!.GetValue<bool>());

        // The QAT checkpoint loads as a plain convnet and names its parent; the loop's own checkpoints do too.
        using var qat = await CheckpointSerializer.LoadAsync(Path.Combine(work.Path, "qat.json"));
        var parentId = JsonNode.Parse(File.ReadAllText(LabelerSamples.TeacherRecord))!["weights_sha256"]!.GetValue<string>()[..16];
        Assert.Equal("qat", qat.Record.Training.Stage);
        Assert.Equal(LabelerSamples.TeacherRecord, qat.Record.Training.Parent!.Path);
        Assert.Equal(parentId, qat.Record.Training.Parent.Id);
        Assert.Equal(4, qat.Record.Training.ActivationRanges!.Count);
        var last = CheckpointSerializer.ParseRecord(File.ReadAllBytes(Path.Combine(work.Path, "qat", ArtifactFiles.RecordOf(ArtifactFiles.LastCheckpoint))));
        Assert.Equal(parentId, last.Training.Lineage!.Parent!.Id);
        Assert.True(File.Exists(Path.Combine(work.Path, ArtifactFiles.Int8Onnx)));
    }

    [Fact]
    public async Task RunAsync_QatOnAnotherFamily_ExitTwo()
    {
        using var work = new TempDirectory();
        using var model = ModelZoo.Create(new ModelSpec { Name = "avgpool_linear", NumClasses = 10, InChannels = 1 });
        var teacher = CheckpointSerializer.ParseRecord(File.ReadAllBytes(LabelerSamples.TeacherRecord));
        var path = await CheckpointSerializer.SaveAsync(model, teacher with { Architecture = new ModelSpec { Name = "avgpool_linear", NumClasses = 10, InChannels = 1 } }, work.Path, "linear");

        var code = await RunAsync("--checkpoint", path, "--output", Path.Combine(work.Path, "out"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(Path.Combine(work.Path, "out", "qat")));
    }
}
