using System.Text.Json;
using Google.Protobuf;
using KdData.Datasets;
using KdData.Evaluation;
using KdData.Export;
using KdData.Imaging;
using KdData.Models;
using KdData.Quantization;
using KdData.Storage;
using KdData.Tests.Fixtures;
using KdData.Training;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KdData.Tests.Quantization;

/// <summary>Post-training int8 of the committed sample teacher (convnet, 94k parameters) on the committed sample images.</summary>
public sealed class Int8QuantizerTests
{
    private static readonly string SampleRoot = Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist");

    [Theory]
    // Measured on this sample (64 calibration images, 200 test images): min-max and percentile agree with fp32 on
    // 98-99 % of the images; entropy clips the ReLU outputs harder and agrees less.
    [InlineData(CalibrationMethod.MinMax, 0.95)]
    [InlineData(CalibrationMethod.Percentile, 0.95)]
    [InlineData(CalibrationMethod.Entropy, 0.85)]
    public async Task QuantizeAsync_SampleTeacher_Int8AgreesWithFp32AndIsSmall(CalibrationMethod method, double minimumAgreement)
    {
        using var teacher = await CheckpointSerializer.LoadAsync(LabelerSamples.TeacherRecord);
        teacher.Model.eval();
        var (calibration, test, numClasses) = await SampleDataAsync(teacher.Record);
        var pre = teacher.Record.Preprocessing!;
        var (fp32, plan) = Int8Quantizer.Prepare(teacher.Model, new OnnxExportOptions
        {
            Channels = pre.Channels, Height = pre.Height, Width = pre.Width, NumClasses = numClasses,
        });

        var (int8, ranges) = await Int8Quantizer.QuantizeAsync(fp32, plan, calibration, new ActivationCalibrator(method, threads: 1));

        // convnet depth 3: the input and each block's ReLU output are calibrated; pools, flatten share them.
        Assert.True(4 == plan.Calibrated.Count, string.Join(", ", plan.Calibrated));
        Assert.Equal(["input", "features.0.2.relu", "features.1.2.relu", "features.2.2.relu"], plan.Calibrated);
        Assert.Equal(4, plan.Layers.Count);
        Assert.All(plan.Calibrated, t => Assert.True(ranges[t].Max > ranges[t].Min));
        Assert.True(int8.ToByteArray().Length <= 0.3 * fp32.ToByteArray().Length,
            $"int8 {int8.ToByteArray().Length} bytes vs fp32 {fp32.ToByteArray().Length}");
        using var fp32Runner = new OnnxBatchRunner(fp32, threads: 1);
        using var int8Runner = new OnnxBatchRunner(int8, threads: 1);
        var reference = await Int8Quantizer.EvaluateAsync(fp32Runner, test, numClasses);
        var quantized = await Int8Quantizer.EvaluateAsync(int8Runner, test, numClasses);
        var agreement = TeacherAgreement.Compute(quantized.Logits, reference.Logits, numClasses);
        Assert.Equal(200, quantized.Count);
        Assert.True(agreement.Top1Agreement >= minimumAgreement, $"int8 agrees with fp32 on {agreement.Top1Agreement:P1} of the test images");
        Assert.True(Math.Abs(quantized.ComputeMetrics().Accuracy - reference.ComputeMetrics().Accuracy) <= 1 - minimumAgreement + 0.01);
    }

    [Fact]
    public async Task QuantizeAsync_SampleTeacher_OnnxRuntimeFusesIntoInt8Kernels()
    {
        var (_, _, int8) = await SampleTeacherInt8Async(QuantizationParameters.DefaultWeightBits);

        // Save ONNX Runtime's optimized graph: the QDQ Conv groups must have become integer convolutions.
        var optimized = Path.Combine(Path.GetTempPath(), $"kd-int8-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED, OptimizedModelFilePath = optimized })
            using (new InferenceSession(int8.ToByteArray(), options))
            {
            }
            var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph;
            var ops = graph.Node.Select(n => n.OpType).ToList();
            Assert.Equal(3, ops.Count(o => o == "QLinearConv"));
            Assert.DoesNotContain("Conv", ops);
        }
        finally
        {
            File.Delete(optimized);
        }
    }

    /// <summary>The sample teacher's fp32 ONNX model, its plan, and its int8 model with <paramref name="weightBits"/>-bit weights (min-max on 64 images).</summary>
    internal static async Task<(ModelProto Fp32, QdqPlan Plan, ModelProto Int8)> SampleTeacherInt8Async(int weightBits)
    {
        using var teacher = await CheckpointSerializer.LoadAsync(LabelerSamples.TeacherRecord);
        teacher.Model.eval();
        var (calibration, _, numClasses) = await SampleDataAsync(teacher.Record);
        var pre = teacher.Record.Preprocessing!;
        var (fp32, plan) = Int8Quantizer.Prepare(teacher.Model, new OnnxExportOptions
        {
            Channels = pre.Channels, Height = pre.Height, Width = pre.Width, NumClasses = numClasses,
        });
        var (int8, _) = await Int8Quantizer.QuantizeAsync(fp32, plan, calibration, new ActivationCalibrator(CalibrationMethod.MinMax, threads: 1), weightBits);
        return (fp32, plan, int8);
    }

    /// <summary>64 labeled train images for calibration and the 200 test images of the committed sample.</summary>
    internal static async Task<(ITrainingData Calibration, ITrainingData Test, int NumClasses)> SampleDataAsync(CheckpointRecord record)
    {
        var store = TestStores.Factory().Open(StorageLocation.ForLocalFolder(SampleRoot));
        var manifest = await DatasetManifest.ReadAsync(await store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var classes = JsonSerializer.Deserialize<string[]>(await store.ReadAllBytesAsync(DatasetLayout.ClassesKey))!;
        var pre = record.Preprocessing!;
        var images = new ImageOptions { OutputSize = pre.Width, ResizeSize = pre.Width, Channels = pre.Channels, Mean = [.. pre.Mean], Std = [.. pre.Std] };
        var dataOptions = new TrainingDataOptions { DecodeWorkers = 1 };
        var cache = new ImageByteCache(store, null);
        var calibration = new StoreTrainingData(cache, [.. manifest.Where(r => r.Split == DatasetSplits.Train).Take(64)], images, dataOptions, 32, training: false, seed: 1);
        var test = new StoreTrainingData(cache, [.. manifest.Where(r => r.Split == DatasetSplits.Test)], images, dataOptions, 100, training: false, seed: 1);
        return (await InMemoryTrainingData.LoadAsync(calibration, 32), await InMemoryTrainingData.LoadAsync(test, 100), classes.Length);
    }
}
