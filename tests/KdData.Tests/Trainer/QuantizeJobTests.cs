using System.Text.Json.Nodes;
using KdData.Hosting;
using KdData.Records;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer quantize</c> in process on the committed Fashion-MNIST sample and its teacher.</summary>
public sealed class QuantizeJobTests
{
    private static string SampleRoot => Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist") + Path.DirectorySeparatorChar;

    private static Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(["quantize", "--dataset", SampleRoot, "--threads", "1", "--calibration-images", "64", .. args], TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_SampleTeacherPercentile_WritesInt8ModelAndReport()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, "--calibration", "percentile");

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)))!;
        Assert.Equal("Percentile", report["calibration"]!["method"]!.GetValue<string>());
        Assert.Equal(64, report["calibration"]!["images"]!.GetValue<int>());
        Assert.Equal(200, report["images"]!.GetValue<int>());
        // The sample teacher's own fp32 accuracy on the 200 sample test images is 0.90 (bench/distillation/notes.md).
        Assert.Equal(0.90, report["fp32"]!["accuracy"]!.GetValue<double>(), 3);
        Assert.True(report["top1_agreement"]!.GetValue<double>() >= 0.95);
        Assert.True(report["size_ratio"]!.GetValue<double>() <= 0.3);
        Assert.Equal(new FileInfo(Path.Combine(work.Path, ArtifactFiles.Int8Onnx)).Length, report["int8"]!["file_bytes"]!.GetValue<long>());
        Assert.True(report["int8"]!["expected_calibration_error"]!.GetValue<double>() > 0);
        Assert.Equal(4, report["calibration"]!["ranges"]!.AsObject().Count);
        // The default scheme: 7-bit weights, which no CPU's int8 kernel can overflow; the CPU measured on is named.
        Assert.Equal(7, report["weight_bits"]!.GetValue<int>());
        Assert.True(report["saturation"]!["safe_without_vnni"]!.GetValue<bool>());
        Assert.InRange(report["saturation"]!["worst_pair_sum"]!.GetValue<int>(), 1, 32_640);
        Assert.True(report["agreement_check"]!["passed"]!.GetValue<bool>());
        Assert.Equal(0.98, report["agreement_check"]!["minimum"]!.GetValue<double>());
        Assert.Equal(KdData.Export.CpuInstructionSet.Current.Level, report["cpu"]!["level"]!.GetValue<string>());
        // The report carries its layout version and reads back through its type.
        Assert.Equal(QuantizationReport.CurrentFormatVersion, report["format_version"]!.GetValue<int>());
        var typed = RecordJson.ParseQuantizationReport(await File.ReadAllBytesAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)));
        Assert.Equal((200, 64, "Percentile"), (typed.Images, typed.Calibration.Images, typed.Calibration.Method));
        Assert.Null(typed.Qat);
    }

    [Fact]
    public async Task RunAsync_EightBitWeights_ReportSaysTheyOverflowWithoutVnni()
    {
        using var work = new TempDirectory();

        // Accepted whatever this CPU computes: the point is what the report says of the file.
        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, "--Trainer:Quantize:WeightBits=8", "--Trainer:Quantize:AcceptLowAgreement=true");

        Assert.Equal(ExitCodes.Success, code);
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)))!;
        Assert.Equal(8, report["weight_bits"]!.GetValue<int>());
        Assert.Contains("codes -127..127", report["scheme"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False(report["saturation"]!["safe_without_vnni"]!.GetValue<bool>());
        Assert.True(report["saturation"]!["worst_pair_sum"]!.GetValue<int>() > 32_767);
        Assert.NotEmpty(report["saturation"]!["unsafe_weights"]!.AsArray());
    }

    [Fact]
    public async Task RunAsync_AgreementUnderMinimum_ExitFiveWithFilesUnlessAccepted()
    {
        // The sample teacher's 7-bit int8 twin agrees with fp32 on 199 of 200 test images on every CPU (the same integers
        // everywhere), so a minimum of 100 % is not met.
        using var work = new TempDirectory();

        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, "--Trainer:Quantize:MinAgreement=1");

        Assert.Equal(ExitCodes.QualityCheckFailed, code);
        Assert.True(File.Exists(Path.Combine(work.Path, ArtifactFiles.Int8Onnx)));
        var report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)))!;
        Assert.False(report["agreement_check"]!["passed"]!.GetValue<bool>());
        Assert.False(report["agreement_check"]!["accepted_below_minimum"]!.GetValue<bool>());

        code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, "--Trainer:Quantize:MinAgreement=1", "--Trainer:Quantize:AcceptLowAgreement=true");

        Assert.Equal(ExitCodes.Success, code);
        report = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(work.Path, ArtifactFiles.QuantizationReport)))!;
        Assert.True(report["agreement_check"]!["accepted_below_minimum"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("--Trainer:Quantize:WeightBits=6")]
    [InlineData("--Trainer:Quantize:WeightBits=9")]
    [InlineData("--Trainer:Quantize:MinAgreement=1.5")]
    public async Task RunAsync_BadInt8Setting_ExitTwo(string setting)
    {
        using var work = new TempDirectory();
        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, setting);
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(File.Exists(Path.Combine(work.Path, ArtifactFiles.Int8Onnx)));
    }

    [Fact]
    public async Task RunAsync_MissingCheckpoint_ExitTwo()
    {
        using var work = new TempDirectory();
        var code = await RunAsync("--checkpoint", Path.Combine(work.Path, "nope.json"), "--output", work.Path);
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(File.Exists(Path.Combine(work.Path, ArtifactFiles.Int8Onnx)));
    }

    [Fact]
    public async Task RunAsync_ClassesDifferFromDataset_ExitTwo()
    {
        using var work = new TempDirectory();
        var record = JsonNode.Parse(File.ReadAllText(LabelerSamples.TeacherRecord))!;
        record["classes"] = new JsonArray([.. Enumerable.Range(0, 10).Select(i => (JsonNode)$"class{i}")]);
        var path = Path.Combine(work.Path, "other.json");
        File.WriteAllText(path, record.ToJsonString());
        File.Copy(Path.ChangeExtension(LabelerSamples.TeacherRecord, ".safetensors"), Path.ChangeExtension(path, ".safetensors"));

        var code = await RunAsync("--checkpoint", path, "--output", work.Path);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Theory]
    [InlineData("--calibration", "kl")]
    [InlineData("--method", "int4")]
    [InlineData("--percentile", "40")]
    public async Task RunAsync_BadSetting_ExitTwo(string name, string value)
    {
        using var work = new TempDirectory();
        var code = await RunAsync("--checkpoint", LabelerSamples.TeacherRecord, "--output", work.Path, name, value);
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }
}
