using KdData.Export;
using KdData.Training;
using Onnx;
using static TorchSharp.torch;

namespace KdData.Quantization;

/// <summary>
/// Post-training int8 quantization of a network: export it to fp32 ONNX with <see cref="OnnxExporter"/> (BatchNorm
/// folded), read the <see cref="QdqPlan"/>, calibrate the activation ranges on images with
/// <see cref="ActivationCalibrator"/>, and write the QDQ model with <see cref="QdqModelWriter"/>.
/// </summary>
public static class Int8Quantizer
{
    /// <summary>The fp32 ONNX model of <paramref name="model"/> and its quantization plan.</summary>
    public static (ModelProto Fp32, QdqPlan Plan) Prepare(nn.Module<Tensor, Tensor> model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var fp32 = OnnxExporter.Export(model, options);
        return (fp32, QdqPlan.Analyze(fp32.Graph));
    }

    /// <summary>
    /// Calibrates on one epoch of <paramref name="calibration"/> and writes the int8 model with
    /// <paramref name="weightBits"/>-bit weights (7 by default: right on every CPU; <see cref="QdqModelWriter"/>);
    /// returns it with the ranges used.
    /// </summary>
    public static async Task<(ModelProto Int8, Dictionary<string, ActivationRange> Ranges)> QuantizeAsync(
        ModelProto fp32, QdqPlan plan, ITrainingData calibration, ActivationCalibrator calibrator,
        int weightBits = QuantizationParameters.DefaultWeightBits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(calibrator);
        var ranges = await calibrator.CalibrateAsync(fp32, plan, calibration, cancellationToken).ConfigureAwait(false);
        return (QdqModelWriter.Quantize(fp32, plan, ranges, weightBits), ranges);
    }

    /// <summary>Logits of <paramref name="runner"/> over one epoch of <paramref name="data"/>, with the labels, in data order.</summary>
    public static async Task<Evaluation.ModelOutputs> EvaluateAsync(OnnxBatchRunner runner, ITrainingData data, int numClasses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(data);
        var logits = new List<float>();
        var labels = new List<long>();
        await foreach (var batch in data.ReadEpochAsync(1, cancellationToken).ConfigureAwait(false))
        {
            logits.AddRange(runner.Logits(batch.Pixels, batch.Count, batch.Channels, batch.Height, batch.Width));
            labels.AddRange(batch.Labels);
        }
        return new Evaluation.ModelOutputs([.. logits], [.. labels], numClasses);
    }
}
