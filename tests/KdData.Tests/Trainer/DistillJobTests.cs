using System.Text.Json;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Tests.Evaluation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer distill</c> in process on the committed sample and the Labeler's real shards.</summary>
public sealed class DistillJobTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private static Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(["distill", "--dataset", SampleRoot, "--Trainer:Data:DecodeWorkers=2", .. args], TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_SampleShards_WritesCheckpointsWithLineageAndDistillationMetrics()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--shards", sample.ShardLocation, "--output", work.Path, "--epochs", "2", "--batch-size", "64");

        Assert.Equal(ExitCodes.Success, code);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement;
        var lineage = record.GetProperty("training").GetProperty("lineage");
        Assert.Equal(LabelerSamples.TeacherId(LabelerSamples.TeacherRecord), lineage.GetProperty("teachers")[0].GetString());
        Assert.Equal(480, lineage.GetProperty("pseudo_labeled_images").GetInt32());
        Assert.Equal(1, lineage.GetProperty("format_version").GetInt32());
        Assert.Equal("kd", record.GetProperty("training").GetProperty("objective").GetString());
        Assert.True(record.GetProperty("training").GetProperty("model").GetProperty("macs").GetInt64() > 0);
        var lines = Training.TrainingFiles.MetricsLines(work.Path);
        Assert.Equal(2, lines.Count);
        foreach (var field in new[] { "kd", "ce", "agreement", "teacher_kl", "temperature", "alpha" })
        {
            Assert.True(double.IsFinite(lines[^1].GetProperty(field).GetDouble()), field);
        }
        // The curriculum's end values on the last epoch (defaults: T 4 -> 2, alpha 0.9 -> 0.5).
        Assert.Equal(2.0, lines[^1].GetProperty("temperature").GetDouble(), 9);
        Assert.Equal(0.5, lines[^1].GetProperty("alpha").GetDouble(), 9);
    }

    [Fact]
    public async Task RunAsync_NoLabelerOutput_ExitsTwoAndWritesNothing()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "student");

        var code = await RunAsync("--shards", Path.Combine(work.Path, "labels") + "/", "--output", output);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());
    }

    [Fact]
    public async Task RunAsync_ShardsOfOtherClasses_ExitsTwo()
    {
        using var work = new TempDirectory();
        var pool = await DatasetManifest.ReadAsync(await File.ReadAllBytesAsync(Path.Combine(SampleRoot, DatasetLayout.PoolLabelsKey)), "pool");
        var rows = pool.Take(5).Select(r => ShardSetWriter.Row(r.Key[DatasetLayout.UnlabeledPrefix.Length..], r.Label, 10)).ToList();
        var shards = Path.Combine(work.Path, "labels");
        var store = Fixtures.TestStores.Factory().Open(shards);
        string[] otherClasses = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        await ShardSetWriter.WriteShardAsync(store, "teacher=0000000000000000/part-0.parquet", rows, otherClasses, SampleRoot + "unlabeled/");
        await ShardSetWriter.WriteManifestAsync(store, "teacher=0000000000000000/", new KdData.SoftTargets.PartitionCommit { Sequence = 0, Accepted = "part-0.parquet", AcceptedRows = 5 });

        var code = await RunAsync("--shards", shards + "/", "--output", Path.Combine(work.Path, "student"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }
}
