using System.Text.Json.Nodes;
using KdData.Export;
using KdData.Hosting;
using KdData.Models;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using static TorchSharp.torch;

namespace KdData.Tests.Export;

/// <summary><c>kddata-trainer export</c> in process on the committed sample teacher (convnet w32) and sample images.</summary>
public sealed class ExportJobTests
{
    private static string SampleRoot => Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist") + Path.DirectorySeparatorChar;

    // Few timed calls: the tests check the report's shape and sanity, never the figures.
    private static Task<int> RunAsync(params string[] args) => TrainerCommandLine.RunAsync(
        ["export", "--threads", "1", "--iterations", "5", "--Trainer:Export:Warmup=1", "--Trainer:Export:LatencyBatchSizes=1,4", .. args], TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_SampleTeacherWithDatasetAndPublish_WritesFilesReportCardAndALabelerTeacher()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        var published = Path.Combine(work.Path, "published");

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--dataset", SampleRoot, "--publish", "file:" + published + "/");

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!;
        Assert.Equal(17, (int)report["opset"]!);
        Assert.Equal(ExportReport.CurrentFormatVersion, (int)report["format_version"]!);
        Assert.Equal("input [batch, 1, 28, 28]", (string)report["input"]!);
        Assert.Equal("logits [batch, 10]", (string)report["output"]!);
        Assert.Equal(94_186, (long)report["parameters"]!);
        Assert.True((long)report["macs"]! > 0);
        Assert.Equal(1, (int)report["threads"]!);
        Assert.InRange((double)report["parity"]!["max_abs_difference"]!, 0, 1e-4);
        Assert.Equal(1.0, (double)report["parity"]!["top1_agreement"]!);
        Assert.Equal(0.9, (double)report["metrics"]!["accuracy"]!, 6); // the sample teacher on the 200 sample test images
        Assert.Equal(200, (int)report["metrics"]!["count"]!);

        var variants = report["variants"]!.AsArray();
        Assert.Equal(["fp32 TorchSharp", "fp32 ONNX Runtime"], variants.Select(v => (string)v!["name"]!));
        foreach (var variant in variants)
        {
            Assert.Equal(0.9, (double)variant!["accuracy"]!, 6);
            Assert.Equal(new FileInfo((string)variant["file"]!).Length, (long)variant["file_bytes"]!);
            Assert.True((long)variant["peak_resident_bytes"]! > 1 << 20);
            var latency = variant["latency"]!.AsArray();
            Assert.Equal([1, 4], latency.Select(l => (int)l!["batch"]!));
            foreach (var l in latency)
            {
                var (p50, p95, p99) = ((double)l!["p50_ms"]!, (double)l["p95_ms"]!, (double)l["p99_ms"]!);
                Assert.True(p50 > 0 && p50 <= p95 && p95 <= p99, $"percentiles out of order: {p50} {p95} {p99}");
                Assert.Equal(5, (int)l["iterations"]!);
                Assert.True((double)l["images_per_second"]! > 0);
            }
        }

        var card = await File.ReadAllTextAsync(Path.Combine(output, "model-card.md"));
        Assert.Contains("Top-1 accuracy: **90.00 %**", card, StringComparison.Ordinal);
        Assert.Contains("Confusion matrix", card, StringComparison.Ordinal);
        Assert.Contains("| fp32 ONNX Runtime | `model.onnx` |", card, StringComparison.Ordinal);
        Assert.Contains("![accuracy vs latency](accuracy-vs-latency.png)", card, StringComparison.Ordinal);
        foreach (var chart in new[] { "accuracy-vs-latency.png", "accuracy-vs-size.png" })
        {
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(Path.Combine(output, chart)))[..4]);
        }

        // The exported record names its parent; its weights are the checkpoint's, so its id (the Labeler's teacher id) is too.
        var record = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(Path.Combine(output, "model.json")));
        Assert.Equal(Path.GetFullPath(LabelerSamples.TeacherRecord), record.Training.Export!.Parent);
        foreach (var file in new[] { "model.onnx", "model.safetensors", "model.json", "export.json", "model-card.md" })
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(output, file)), await File.ReadAllBytesAsync(Path.Combine(published, file)));
        }
        using var teacher = await InferenceModel.LoadAsync(Fixtures.TestStores.Factory(), "file:" + published + "/model.json", CPU);
        Assert.Equal("343ea00c39c3c068", teacher.Id);
    }

    [Fact]
    public async Task RunAsync_Int8ModelInOutputAndComparedCheckpoint_BothMeasuredAsVariants()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        Directory.CreateDirectory(output);
        // Any ONNX model with the right input stands in for the quantize stage's output: here a tiny exported net.
        var spec = new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 4, Depth = 1 };
        using (var small = ExportSamples.CreateWithRandomNorms(spec))
        {
            var onnx = KdData.Export.OnnxExporter.Export(small, ExportSamples.OptionsFor(spec));
            await File.WriteAllBytesAsync(Path.Combine(output, "model.int8.onnx"), KdData.Export.OnnxExporter.ToBytes(onnx));
        }

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--measure", "false", "--compare", LabelerSamples.TeacherRecord);

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!;
        var variants = report["variants"]!.AsArray();
        Assert.Equal(4, variants.Count);
        Assert.Equal("int8 ONNX Runtime", (string)variants[2]!["name"]!);
        Assert.Equal("int8", (string)variants[2]!["precision"]!);
        Assert.True(report["files"]!.AsObject().ContainsKey("model.int8.onnx"));
        Assert.Contains("teacher.json", (string)variants[3]!["name"]!, StringComparison.Ordinal);
        Assert.All(variants, v => Assert.Empty(v!["latency"]!.AsArray())); // --measure false
        Assert.Null(report["metrics"]); // no dataset: nothing evaluated
        Assert.Equal("seeded random normal inputs", (string)report["parity"]!["source"]!);
    }

    [Fact]
    public async Task RunAsync_MissingCheckpoint_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--checkpoint", Path.Combine(work.Path, "nope.json"), "--output", Path.Combine(work.Path, "export"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(Path.Combine(work.Path, "export")));
    }

    [Fact]
    public async Task RunAsync_BadBatchSizesOrMissingComparedFile_ExitsTwo()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");

        Assert.Equal(ExitCodes.InvalidConfiguration, await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--Trainer:Export:LatencyBatchSizes=1,0"));
        Assert.Equal(ExitCodes.InvalidConfiguration, await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--compare", Path.Combine(work.Path, "missing.onnx")));
        Assert.False(File.Exists(Path.Combine(output, "model.onnx")));
    }

    [Fact]
    public async Task RunAsync_ParityToleranceUnderTheRealDifference_ExitsOneAndWritesNothing()
    {
        // ONNX Runtime and LibTorch sum the convolutions in other orders, so their logits differ by a few float
        // roundings (the second run below shows it): a tolerance of 0 refuses the export.
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        string[] args = ["--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--measure", "false"];

        var code = await RunAsync([.. args, "--Trainer:Export:ParityTolerance=0"]);

        Assert.Equal(ExitCodes.Failure, code);
        Assert.False(File.Exists(Path.Combine(output, "model.onnx")));
        Assert.False(Directory.Exists(output)); // checked before anything is written, not even the folder

        // The same export at the default tolerance (1e-4) passes: the difference the first run refused is real and small.
        Assert.Equal(ExitCodes.Success, await RunAsync(args));
        var difference = (double)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!["parity"]!["max_abs_difference"]!;
        Assert.True(difference is > 0 and <= 1e-4, $"max |ONNX - TorchSharp| = {difference}");
    }

    /// <summary>Runs <c>quantize</c> on the sample teacher into <paramref name="output"/> (model.int8.onnx beside the export).</summary>
    private static Task<int> QuantizeAsync(string output, params string[] args) => TrainerCommandLine.RunAsync(
        ["quantize", "--checkpoint", LabelerSamples.TeacherRecord, "--dataset", SampleRoot, "--output", output, "--threads", "1", "--calibration-images", "64", .. args],
        TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_QuantizedSampleTeacher_ReportsSchemeOverflowCheckAgreementAndCpu()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        Assert.Equal(ExitCodes.Success, await QuantizeAsync(output));

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--dataset", SampleRoot, "--measure", "false");

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!;
        var int8 = report["quantized"]!;
        Assert.Equal(7, (int)int8["weight_bits"]!);
        Assert.Contains("codes -64..64", (string)int8["scheme"]!, StringComparison.Ordinal);
        Assert.True((bool)int8["safe_without_vnni"]!);
        Assert.InRange((int)int8["worst_pair_sum"]!, 1, 32_640);
        Assert.Equal(200, (int)int8["agreement"]!["images"]!);
        // 7-bit weights: the integer kernels compute what the graph defines, on every CPU.
        Assert.InRange((double)int8["agreement"]!["top1_agreement"]!, 0.99, 1.0);
        Assert.True((bool)int8["agreement"]!["passed"]!);
        Assert.InRange((double)int8["agreement_with_exported_fp32"]!, 0.98, 1.0);
        Assert.Equal(CpuInstructionSet.Current.Level, (string)report["instruction_set"]!["level"]!);
        var card = await File.ReadAllTextAsync(Path.Combine(output, "model-card.md"));
        Assert.Contains("## int8", card, StringComparison.Ordinal);
        Assert.Contains("Right on every CPU", card, StringComparison.Ordinal);
        Assert.Contains($"CPU instruction set: **{CpuInstructionSet.Current.Level}**", card, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EightBitInt8WithDataset_NotPublishedWhereThisCpuOverflowsUnlessAccepted()
    {
        // The check compares the int8 model as ONNX Runtime runs it here (integer kernels) with the same graph computed
        // in float. 8-bit weights agree with it on every image where the kernels accumulate in 32 bits (VNNI, AMX) and
        // on far fewer where u8 x s8 pairs saturate (about 87 % of the sample on a Zen 3), so the outcome is the CPU's.
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        var published = Path.Combine(work.Path, "published");
        Assert.Equal(ExitCodes.Success, await QuantizeAsync(output, "--Trainer:Quantize:WeightBits=8", "--Trainer:Quantize:AcceptLowAgreement=true"));
        string[] args = ["--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--dataset", SampleRoot, "--measure", "false",
            "--publish", "file:" + published + "/"];
        var overflows = CpuInstructionSet.Current.Int8PairsSaturate;

        Assert.Equal(overflows ? ExitCodes.QualityCheckFailed : ExitCodes.Success, await RunAsync(args));
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!;
        Assert.Equal(!overflows, (bool)report["quantized"]!["agreement"]!["passed"]!);
        Assert.True(File.Exists(Path.Combine(output, "model-card.md")));
        Assert.Equal(!overflows, File.Exists(Path.Combine(published, "model.json")));

        Assert.Equal(ExitCodes.Success, await RunAsync([.. args, "--Trainer:Export:AcceptLowInt8Agreement=true"]));
        Assert.True(File.Exists(Path.Combine(published, "model.json")));
    }

    [Fact]
    public async Task RunAsync_EightBitInt8WithoutDataset_StoppedExactlyWhereThisCpuOverflows()
    {
        // Without a dataset there is no agreement to measure; 8-bit weights are then refused on a CPU whose kernels
        // overflow them (AVX2, AVX-512 without VNNI) and kept on one with VNNI, AMX or ARM dot products.
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "export");
        Assert.Equal(ExitCodes.Success, await QuantizeAsync(output, "--Trainer:Quantize:WeightBits=8", "--Trainer:Quantize:AcceptLowAgreement=true"));

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", output, "--measure", "false");

        Assert.Equal(CpuInstructionSet.Current.Int8PairsSaturate ? ExitCodes.QualityCheckFailed : ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "export.json")))!;
        Assert.Equal(8, (int)report["quantized"]!["weight_bits"]!);
        Assert.False((bool)report["quantized"]!["safe_without_vnni"]!);
        Assert.Null(report["quantized"]!["agreement"]);
    }
}
