using System.Text.Json.Nodes;
using KdData.Datasets;
using KdData.Evaluation;
using KdData.Hosting;
using KdData.Records;
using KdData.Tests.Evaluation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer evaluate</c> in process on the committed Fashion-MNIST sample and its teacher.</summary>
public sealed class EvaluateJobTests
{
    private static string SampleRoot => Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist") + Path.DirectorySeparatorChar;

    private static string[] ClassNames => ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static Task<int> RunAsync(params string[] args) => TrainerCommandLine.RunAsync(["evaluate", "--dataset", SampleRoot, .. args], TextWriter.Null, TextWriter.Null);

    /// <summary>A copy of the sample teacher in its own folder (so a metrics.jsonl can sit beside it), classes optionally replaced.</summary>
    private static string CopyTeacher(string folder, string[]? classes = null)
    {
        var record = JsonNode.Parse(File.ReadAllText(LabelerSamples.TeacherRecord))!;
        if (classes is not null)
        {
            record["classes"] = new JsonArray([.. classes.Select(c => (JsonNode)c)]);
        }

        var path = Path.Combine(folder, "best.json");
        File.WriteAllText(path, record.ToJsonString());
        File.Copy(Path.ChangeExtension(LabelerSamples.TeacherRecord, ".safetensors"), Path.ChangeExtension(path, ".safetensors"));
        return path;
    }

    [Fact]
    public async Task RunAsync_SampleWithTeacherShardsAndHistory_WritesReportAndCharts()
    {
        using var work = new TempDirectory();
        var checkpoint = CopyTeacher(work.Path);
        await File.WriteAllLinesAsync(
            Path.Combine(work.Path, ArtifactFiles.Metrics),
            [
                """{"epoch":1,"train_loss":1.2,"eval_loss":0.9,"eval_accuracy":0.7,"kd":0.8,"ce":0.5,"alpha":0.9,"temperature":4,"agreement":0.6,"teacher_kl":0.4}""",
                """{"epoch":2,"train_loss":0.8,"eval_loss":0.7,"eval_accuracy":0.8,"kd":0.6,"ce":0.4,"alpha":0.7,"temperature":3,"agreement":0.8,"teacher_kl":0.2}""",
            ]);

        // Ten pool images pseudo-labeled, seven of them right; keys relative to the Labeler's input (unlabeled/).
        var pool = await DatasetManifest.ReadAsync(await File.ReadAllBytesAsync(Path.Combine(SampleRoot, DatasetLayout.PoolLabelsKey)), "pool");
        var rows = pool.Take(10).Select((r, i) => ShardSetWriter.Row(r.Key[DatasetLayout.UnlabeledPrefix.Length..], i < 7 ? r.Label : (r.Label + 1) % 10, 10)).ToList();
        var shards = Path.Combine(work.Path, "labels");
        var store = Fixtures.TestStores.Factory().Open(shards);
        await ShardSetWriter.WriteShardAsync(store, "teacher=0000000000000000/part-0.parquet", rows, ClassNames, "file:///somewhere/else/");
        await ShardSetWriter.WriteManifestAsync(store, "teacher=0000000000000000/", new KdData.SoftTargets.PartitionCommit { Sequence = 0, Accepted = "part-0.parquet", AcceptedRows = 10 });
        var output = Path.Combine(work.Path, "evaluation");

        var code = await RunAsync("--checkpoint", checkpoint, "--teacher", LabelerSamples.TeacherRecord, "--shards", shards, "--output", output);

        Assert.Equal(ExitCodes.Success, code);
        var report = await EvaluationReportWriter.ReadAsync(Path.Combine(output, EvaluationReport.FileName));
        Assert.Equal(200, report.Metrics.Count);
        Assert.Equal(200, report.Data.Listed);
        Assert.Equal(0.9, report.Metrics.Accuracy, 6); // the committed teacher on the 200 committed test images
        Assert.Equal(ClassNames, report.Classes);
        Assert.Equal(200, report.Metrics.ConfusionMatrix.Sum(r => r.Sum()));
        Assert.InRange(report.Metrics.ExpectedCalibrationError, 0.0, 1.0);
        Assert.Equal(1.0, report.Teacher!.Agreement.Top1Agreement);
        Assert.Equal(0, report.Teacher.Agreement.MeanKlTeacherStudent, 9);
        Assert.Equal("343ea00c39c3c068", report.Teacher.Checkpoint.Id);
        Assert.Equal(94_186, report.Checkpoint.Parameters);
        Assert.Equal(10, report.PseudoLabels!.Accepted.Matched);
        Assert.Equal(0.7, report.PseudoLabels.Accepted.Accuracy!.Value, 12);
        Assert.Equal("unlabeled/", report.PseudoLabels.KeyPrefix);
        Assert.NotNull(report.Charts.LearningCurves);
        foreach (var chart in new[] { report.Charts.LearningCurves, report.Charts.ConfusionMatrix, report.Charts.ReliabilityDiagram })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(output, chart!));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
    }

    [Fact]
    public async Task RunAsync_MissingCheckpoint_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--checkpoint", Path.Combine(work.Path, "nothing.json"), "--output", work.Path);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(File.Exists(Path.Combine(work.Path, EvaluationReport.FileName)));
    }

    [Fact]
    public async Task RunAsync_CheckpointWithOtherClasses_ExitsTwo()
    {
        using var work = new TempDirectory();
        var checkpoint = CopyTeacher(work.Path, [.. Enumerable.Range(0, 10).Select(i => $"digit {i}")]);

        var code = await RunAsync("--checkpoint", checkpoint, "--output", work.Path);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Fact]
    public async Task RunAsync_MissingDataset_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await TrainerCommandLine.RunAsync(
            ["evaluate", "--checkpoint", LabelerSamples.TeacherRecord, "--dataset", Path.Combine(work.Path, "no-dataset") + "/", "--output", work.Path], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Fact]
    public async Task LoadAsync_BadInputs_MessagesNameTheFile()
    {
        using var work = new TempDirectory();
        var stores = Fixtures.TestStores.Factory();
        var device = TorchSharp.torch.CPU;
        var mismatched = CopyTeacher(work.Path, [.. Enumerable.Range(0, 10).Select(i => $"digit {i}")]);
        var missing = Path.Combine(work.Path, "missing.json");

        var classError = await Assert.ThrowsAsync<InvalidDataException>(() => EvaluationInputs.LoadAsync(
            stores, new EvaluationInputOptions { Dataset = SampleRoot, Checkpoint = mismatched }, device, default));
        var missingError = await Assert.ThrowsAsync<FileNotFoundException>(() => EvaluationInputs.LoadAsync(
            stores, new EvaluationInputOptions { Dataset = SampleRoot, Checkpoint = missing }, device, default));
        var datasetError = await Assert.ThrowsAsync<InvalidDataException>(() => EvaluationInputs.LoadAsync(
            stores, new EvaluationInputOptions { Dataset = work.Path + "/", Checkpoint = LabelerSamples.TeacherRecord }, device, default));
        var splitError = await Assert.ThrowsAsync<InvalidDataException>(() => EvaluationInputs.LoadAsync(
            stores, new EvaluationInputOptions { Dataset = SampleRoot, Checkpoint = LabelerSamples.TeacherRecord, Split = "validation" }, device, default));

        Assert.Contains(mismatched, classError.Message, StringComparison.Ordinal);
        Assert.Contains("digit 0", classError.Message, StringComparison.Ordinal);
        Assert.Contains(missing, missingError.Message, StringComparison.Ordinal);
        Assert.Contains("classes.json", datasetError.Message, StringComparison.Ordinal);
        Assert.Contains("'validation'", splitError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ShardSetOfOtherClasses_ExitsTwo()
    {
        using var work = new TempDirectory();
        var store = Fixtures.TestStores.Factory().Open(work.Path);
        string[] digits = [.. Enumerable.Range(0, 10).Select(i => $"digit {i}")];
        await ShardSetWriter.WriteShardAsync(store, "teacher=0000000000000000/part-0.parquet", [ShardSetWriter.Row("00000.png", 1, 10)], digits, "file:///x/");
        await ShardSetWriter.WriteManifestAsync(store, "teacher=0000000000000000/", new KdData.SoftTargets.PartitionCommit { Sequence = 0, Accepted = "part-0.parquet", AcceptedRows = 1 });
        var output = Path.Combine(work.Path, "evaluation");

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--shards", work.Path, "--output", output);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }
}
