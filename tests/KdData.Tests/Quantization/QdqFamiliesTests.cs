using KdData.Export;
using KdData.Models;
using KdData.Quantization;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Quantization;

/// <summary>The QDQ pass on a graph other than the plain convnet: residual additions and pre-activation BatchNorm (wrn).</summary>
public sealed class QdqFamiliesTests
{
    [Fact]
    public async Task QuantizeAsync_WideResNet_RunsInOnnxRuntimeCloseToFp32()
    {
        manual_seed(3);
        var spec = new ModelSpec { Name = "wrn", NumClasses = 10, InChannels = 1, Depth = 10, WidenFactor = 1 };
        using var model = ModelZoo.Create(spec);
        model.eval();
        var record = CheckpointSerializer.ParseRecord(File.ReadAllBytes(LabelerSamples.TeacherRecord));
        var (calibration, test, numClasses) = await Int8QuantizerTests.SampleDataAsync(record);
        var (fp32, plan) = Int8Quantizer.Prepare(model, new OnnxExportOptions { Channels = 1, Height = 28, Width = 28, NumClasses = numClasses });

        var (int8, _) = await Int8Quantizer.QuantizeAsync(fp32, plan, calibration, new ActivationCalibrator(CalibrationMethod.MinMax, threads: 1));

        Assert.Contains(fp32.Graph.Node, n => n.OpType == "Add");
        using var fp32Runner = new OnnxBatchRunner(fp32, threads: 1);
        using var int8Runner = new OnnxBatchRunner(int8, threads: 1);
        var reference = await Int8Quantizer.EvaluateAsync(fp32Runner, test, numClasses);
        var quantized = await Int8Quantizer.EvaluateAsync(int8Runner, test, numClasses);
        // Untrained weights: compare the logits themselves (relative to their spread, 0.65 here; measured mean error
        // 0.002), not the near-random top-1.
        var spread = reference.Logits.Max() - reference.Logits.Min();
        var meanError = reference.Logits.Zip(quantized.Logits, (a, b) => Math.Abs(a - b)).Average();
        Assert.True(meanError <= 0.05 * spread, $"mean |int8 - fp32| = {meanError}, logit spread {spread}");
        Assert.True(int8.Graph.Node.Count(n => n.OpType == "QuantizeLinear") >= plan.Layers.Count / 2);
    }
}
