using KdData.Export;
using KdData.Models;
using KdData.Quantization;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Quantization;

public sealed class FakeQuantizeTests
{
    private static readonly float[] GradientWeights = [1f, 2f, 3f, 4f];
    private static readonly long[] TwoByTwo = [2, 2];

    [Fact]
    public void Activation_HandBuiltTensor_QuantizedValuesAndClippedStraightThroughGradient()
    {
        // s = 0.1, z = 10: codes 0..255 cover [-1.0, 24.5].
        //   -1.5  -> saturates at code 0  -> -1.0, gradient 0
        //   -0.04 -> round(-0.4) + 10 = 10 -> 0.0, gradient 1
        //    0.26 -> round(2.6) + 10 = 13  -> 0.3, gradient 1
        //   30    -> saturates at 255      -> 24.5, gradient 0
        using var scope = NewDisposeScope();
        var x = tensor(new[] { -1.5f, -0.04f, 0.26f, 30f }).requires_grad_(true);

        var y = FakeQuantize.Activation(x, new QuantizationParameters(0.1f, 10));
        y.sum().backward();

        var values = y.detach().data<float>().ToArray();
        Assert.Equal([-1.0f, 0.0f, 0.3f, 24.5f], values.Select(v => MathF.Round(v, 5)));
        Assert.Equal([0f, 1f, 1f, 0f], x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Weight_EightBitsPerChannel_SymmetricCodesAndIdentityGradient()
    {
        // Channel 0: max 1.27 -> s 0.01: 0.504 -> 50 codes -> 0.50. Channel 1: max 2.54 -> s 0.02: -1.0 -> -50 -> -1.0.
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.27f, 0.504f, -2.54f, -1.0f }, TwoByTwo).requires_grad_(true);

        var (q, scales) = FakeQuantize.Weight(w, QuantizationParameters.WeightCodeMax(8));
        q.mul(tensor(GradientWeights, TwoByTwo)).sum().backward();

        Assert.Equal([0.01f, 0.02f], scales.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
        Assert.Equal([1.27f, 0.5f, -2.54f, -1.0f], q.detach().data<float>().ToArray().Select(v => MathF.Round(v, 5)));
        Assert.Equal([1f, 2f, 3f, 4f], w.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Weight_SevenBits_CodesUpTo64()
    {
        // Channel 0: max 1.28 -> s 1.28 / 64 = 0.02: 0.305 -> 15.25 -> 15 codes -> 0.30.
        // Channel 1: max 2.56 -> s 0.04: -1.05 -> -26.25 -> -26 codes -> -1.04.
        using var scope = NewDisposeScope();
        var w = tensor(new[] { 1.28f, 0.305f, -2.56f, -1.05f }, TwoByTwo);

        var (q, scales) = FakeQuantize.Weight(w, QuantizationParameters.WeightCodeMax(7));

        Assert.Equal([0.02f, 0.04f], scales.data<float>().ToArray().Select(v => MathF.Round(v, 6)));
        Assert.Equal([1.28f, 0.30f, -2.56f, -1.04f], q.data<float>().ToArray().Select(v => MathF.Round(v, 5)));
    }

    [Fact]
    public async Task QatConvNet_SampleTeacher_MatchesInt8OnnxModel()
    {
        using var teacher = await CheckpointSerializer.LoadAsync(LabelerSamples.TeacherRecord);
        teacher.Model.eval();
        var (calibration, test, numClasses) = await Int8QuantizerTests.SampleDataAsync(teacher.Record);
        var pre = teacher.Record.Preprocessing!;
        var (fp32, plan) = Int8Quantizer.Prepare(teacher.Model, new OnnxExportOptions
        {
            Channels = pre.Channels, Height = pre.Height, Width = pre.Width, NumClasses = numClasses,
        });
        var (int8, ranges) = await Int8Quantizer.QuantizeAsync(fp32, plan, calibration, new ActivationCalibrator(CalibrationMethod.MinMax, threads: 1));
        using var qat = new QatConvNet(teacher.Model, [.. plan.Calibrated.Select(t => ranges[t])]);
        qat.eval();
        Assert.Equal(teacher.Model.state_dict().Keys.Order(), qat.state_dict().Keys.Order());

        using var runner = new OnnxBatchRunner(int8, threads: 1);
        var onnx = await Int8Quantizer.EvaluateAsync(runner, test, numClasses);
        var fake = new List<float>();
        await foreach (var batch in test.ReadEpochAsync(1))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            fake.AddRange(qat.call(tensor(batch.Pixels, [batch.Count, batch.Channels, batch.Height, batch.Width])).data<float>().ToArray());
        }

        // Same arithmetic, different kernels: a float rounding can move one activation code by one step, so the logits
        // agree closely but not bit for bit. Tolerance: 0.05 absolute on logits of magnitude ~10.
        var maxDiff = onnx.Logits.Zip(fake, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(maxDiff <= 0.05, $"max |int8 ONNX - fake-quant| = {maxDiff}");
        var agreement = KdData.Evaluation.TeacherAgreement.Compute([.. fake], onnx.Logits, numClasses);
        Assert.Equal(1.0, agreement.Top1Agreement);
    }
}
