using System.Text.Json.Nodes;
using KdData.Hosting;
using KdData.Models;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using KdData.Training;

namespace KdData.Tests.Trainer;

/// <summary>
/// <c>kddata-trainer pipeline</c> in process on the committed sample and the Labeler's real shards, with tiny settings
/// (1 epoch per stage, convnet width 8): distill -> prune -> quantize (PTQ and QAT) -> export.
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class PipelineJobTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(
            ["pipeline", "--shards", sample.ShardLocation, "--epochs", "1", "--prune-steps", "1", "--fine-tune-epochs", "1", "--qat-epochs", "1", "--iterations", "2",
                "--Trainer:Distill:Model:Width=8", "--Trainer:Distill:BatchSize=64", "--Trainer:Prune:BatchSize=64", "--Trainer:Quantize:Qat:BatchSize=64",
                "--Trainer:Quantize:CalibrationImages=32", "--Trainer:Export:Warmup=1",
                // A 1-epoch width-8 student has near-uniform logits, so its int8 twin flips many of them: the chain, not
                // the int8 agreement check (QuantizeJobTests, ExportJobTests), is what these tests are about.
                "--Trainer:Quantize:AcceptLowAgreement=true", "--Trainer:Export:AcceptLowInt8Agreement=true", "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2", .. args],
            TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_WholeChain_StageOutputsLineageAndResume()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "pipeline");
        string[] args = ["--dataset", SampleRoot, "--output", output, "--qat", "true"];

        Assert.Equal(ExitCodes.Success, await RunAsync(args));

        // Every stage's outputs, in its own folder.
        var distill = Path.Combine(output, "1-distill", "last.json");
        var pruned = Path.Combine(output, "2-prune", "pruned.json");
        var ptq = Path.Combine(output, "3-quantize", "ptq");
        var qat = Path.Combine(output, "3-quantize", "qat");
        var export = Path.Combine(output, "4-export");
        foreach (var file in new[]
        {
            distill, pruned, Path.Combine(ptq, "model.int8.onnx"), Path.Combine(ptq, "quantization.json"), Path.Combine(qat, "qat.json"),
            Path.Combine(qat, "model.int8.onnx"), Path.Combine(export, "model.onnx"), Path.Combine(export, "model.int8.onnx"),
            Path.Combine(export, "model.json"), Path.Combine(export, "export.json"), Path.Combine(export, "model-card.md"),
        })
        {
            Assert.True(File.Exists(file), $"{file} is missing");
        }

        // pipeline.json: the four stages, each naming its record (with its SHA-256) and the previous stage's record as input.
        var manifest = await PipelineManifest.ReadAsync(output);
        Assert.Equal(["distill", "prune", "quantize", "export"], manifest.Stages.Select(s => s.Stage));
        Assert.Equal([distill, pruned, Path.Combine(qat, "qat.json"), Path.Combine(export, "model.json")], manifest.Stages.Select(s => s.Record));
        for (var i = 0; i < manifest.Stages.Count; i++)
        {
            Assert.Equal(await PipelineManifest.Sha256Async(manifest.Stages[i].Record), manifest.Stages[i].RecordSha256);
            Assert.Equal(i == 0 ? null : manifest.Stages[i - 1].Record, manifest.Stages[i].Input);
            Assert.Equal(i == 0 ? null : manifest.Stages[i - 1].RecordSha256, manifest.Stages[i].InputSha256);
        }

        // Lineage: the export's record -> the pruned model -> its prune steps -> the distilled student, each parent's weights by SHA-256.
        var exported = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(export, "model.json")))!;
        Assert.Equal(pruned, exported["training"]!["export"]!["parent"]!.GetValue<string>());
        Assert.Equal(Weights(pruned), exported["training"]!["export"]!["parent_weights_sha256"]!.GetValue<string>());
        var chain = ParentChain(pruned);
        Assert.Equal(distill, chain[^1]);
        Assert.All(chain.Take(chain.Count - 1), p => Assert.StartsWith(Path.Combine(output, "2-prune"), p, StringComparison.Ordinal));
        Assert.Equal("distill", Lineage(distill)!["stage"]!.GetValue<string>());
        // Both quantizations name the pruned model as their parent.
        var ptqReport = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ptq, "quantization.json")))!;
        Assert.Equal(pruned, ptqReport["checkpoint"]!["path"]!.GetValue<string>());
        Assert.Equal("ptq", ptqReport["method"]!.GetValue<string>());
        var qatRecord = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(qat, "qat.json")))!;
        Assert.Equal(pruned, qatRecord["training"]!["parent"]!["path"]!.GetValue<string>());
        Assert.Equal(Weights(pruned)[..16], qatRecord["training"]!["parent"]!["id"]!.GetValue<string>());

        // The export measured every variant: pruned fp32 (TorchSharp, ONNX Runtime), int8 QAT, the unpruned student, int8 PTQ.
        var variants = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(export, "export.json")))!["variants"]!.AsArray()
            .Select(v => v!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["pruned fp32 TorchSharp", "pruned fp32 ONNX Runtime", "pruned int8 QAT ONNX Runtime"], variants.Take(3));
        Assert.Equal(5, variants.Count);
        Assert.Contains(variants, v => v.StartsWith("1-distill/last.json", StringComparison.Ordinal));
        Assert.Contains(variants, v => v.StartsWith("ptq/model.int8.onnx", StringComparison.Ordinal));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(qat, "model.int8.onnx")), await File.ReadAllBytesAsync(Path.Combine(export, "model.int8.onnx")));

        // A rerun skips every finished stage: no file changes.
        var before = Snapshot(output);
        Assert.Equal(ExitCodes.Success, await RunAsync(args));
        Assert.Equal(before, Snapshot(output));

        // A removed later stage is redone alone.
        Directory.Delete(export, recursive: true);
        Assert.Equal(ExitCodes.Success, await RunAsync(args));
        Assert.True(File.Exists(Path.Combine(export, "model.json")));
        var after = Snapshot(output);
        Assert.Equal(
            before.Where(f => !f.Key.StartsWith("4-export", StringComparison.Ordinal) && f.Key != PipelineManifest.FileName),
            after.Where(f => !f.Key.StartsWith("4-export", StringComparison.Ordinal) && f.Key != PipelineManifest.FileName));
        var rerun = await PipelineManifest.ReadAsync(output);
        Assert.Equal(manifest.Stages.Take(3).Select(s => s.FinishedAt), rerun.Stages.Take(3).Select(s => s.FinishedAt));
        Assert.True(rerun.Stages[3].FinishedAt > manifest.Stages[3].FinishedAt);

        // A run stopped inside quantize (pipeline.json records distill and prune only; 3-quantize/ is half written)
        // resumes there: distill and prune are not rerun, quantize and export finish.
        await (rerun with { Stages = [.. rerun.Stages.Take(2)] }).WriteAsync(output);
        File.Delete(Path.Combine(qat, "qat.json"));
        Assert.Equal(ExitCodes.Success, await RunAsync(args));
        var resumed = await PipelineManifest.ReadAsync(output);
        Assert.Equal(["distill", "prune", "quantize", "export"], resumed.Stages.Select(s => s.Stage));
        Assert.True(File.Exists(Path.Combine(qat, "qat.json")));
        Assert.Equal(
            before.Where(f => f.Key.StartsWith("1-distill", StringComparison.Ordinal) || f.Key.StartsWith("2-prune", StringComparison.Ordinal)),
            Snapshot(output).Where(f => f.Key.StartsWith("1-distill", StringComparison.Ordinal) || f.Key.StartsWith("2-prune", StringComparison.Ordinal)));
        rerun = resumed;

        // A changed pipeline setting redoes that stage and the ones after it, not the ones before.
        Assert.Equal(ExitCodes.Success, await RunAsync([.. args[..^2], "--qat", "false"]));
        var ptqOnly = await PipelineManifest.ReadAsync(output);
        Assert.Equal(Path.Combine(ptq, "quantization.json"), ptqOnly.Stages[2].Record);
        Assert.Equal(rerun.Stages.Take(2).Select(s => s.FinishedAt), ptqOnly.Stages.Take(2).Select(s => s.FinishedAt));
        Assert.Equal(ptqOnly.Stages[2].RecordSha256, ptqOnly.Stages[3].InputSha256);
        Assert.False(Directory.Exists(qat));
    }

    [Fact]
    public async Task RunAsync_GivenStudent_SkipsDistillAndPrunesIt()
    {
        using var work = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 4, Depth = 2 };
        TorchSharp.torch.manual_seed(5);
        using var model = ModelZoo.Create(spec);
        var student = await CheckpointSerializer.SaveAsync(model, new CheckpointRecord
        {
            Architecture = spec,
            Classes = sample.Classes,
            Preprocessing = SampleDistillation.ImageOptions.ToPreprocessingRecord(),
        }, work.Path, "student");
        var output = Path.Combine(work.Path, "pipeline");

        Assert.Equal(ExitCodes.Success, await RunAsync("--dataset", SampleRoot, "--output", output, "--skip-distill", "true", "--checkpoint", student, "--Trainer:Export:Measure=false"));

        Assert.False(Directory.Exists(Path.Combine(output, "1-distill")));
        var manifest = await PipelineManifest.ReadAsync(output);
        Assert.Equal("given", manifest.Stages[0].Status);
        Assert.Equal(student, manifest.Stages[0].Record);
        Assert.Equal(student, ParentChain(Path.Combine(output, "2-prune", "pruned.json"))[^1]);
        Assert.Equal(Path.Combine(output, "3-quantize", "ptq", "quantization.json"), manifest.Stages[2].Record);
        Assert.True(File.Exists(Path.Combine(output, "4-export", "model-card.md")));
    }

    [Fact]
    public async Task RunAsync_MissingDatasetOrCheckpoint_ExitsTwoBeforeAnyStage()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "pipeline");
        var missingDataset = Path.Combine(work.Path, "no-dataset") + Path.DirectorySeparatorChar;
        var missingCheckpoint = Path.Combine(work.Path, "none.json");

        Assert.Equal(ExitCodes.InvalidConfiguration, await RunAsync("--dataset", missingDataset, "--output", output));
        Assert.Equal(ExitCodes.InvalidConfiguration, await RunAsync("--dataset", SampleRoot, "--output", output, "--checkpoint", missingCheckpoint));
        Assert.Equal(ExitCodes.InvalidConfiguration, await RunAsync("--dataset", SampleRoot, "--output", output, "--skip-distill", "true"));
        Assert.False(Directory.Exists(output));

        // The messages name the missing input.
        var stores = TestStores.Factory();
        var dataset = await Assert.ThrowsAsync<InvalidInputException>(() => PipelineJob.CheckInputsAsync(stores, new PipelineOptions(), new TrainingDataOptions { Dataset = missingDataset }));
        Assert.Contains("no-dataset", dataset.Message, StringComparison.Ordinal);
        var checkpoint = await Assert.ThrowsAsync<InvalidInputException>(() => PipelineJob.CheckInputsAsync(stores,
            new PipelineOptions { Checkpoint = missingCheckpoint }, new TrainingDataOptions { Dataset = SampleRoot }));
        Assert.Contains(missingCheckpoint, checkpoint.Message, StringComparison.Ordinal);
        Assert.Contains("--checkpoint", checkpoint.Message, StringComparison.Ordinal);
    }

    /// <summary>The records reached from <paramref name="record"/> by following <c>training.lineage.parent</c>, each parent's weights checked by SHA-256.</summary>
    private static List<string> ParentChain(string record)
    {
        var chain = new List<string>();
        var current = record;
        while (Lineage(current)?["parent"]?.GetValue<string>() is { } parent)
        {
            Assert.Equal(Weights(parent), Lineage(current)!["parent_sha256"]!.GetValue<string>());
            chain.Add(parent);
            current = parent;
        }
        return chain;
    }

    private static JsonNode? Lineage(string record) => JsonNode.Parse(File.ReadAllText(record))!["training"]?["lineage"];

    private static string Weights(string record) => CheckpointSerializer.ParseRecord(File.ReadAllBytes(record)).WeightsSha256!;

    /// <summary>Every file under <paramref name="folder"/> (relative path) with its length, write time and bytes' hash.</summary>
    private static SortedDictionary<string, string> Snapshot(string folder) => new(
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(folder, f),
            f => $"{new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}"),
        StringComparer.Ordinal);
}
