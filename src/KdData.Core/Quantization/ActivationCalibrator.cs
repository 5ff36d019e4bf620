using KdData.Training;
using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Measures the range of every tensor in <see cref="QdqPlan.Calibrated"/> by running the fp32 ONNX model (the
/// exporter's graph, BatchNorm already folded, so the ranges belong to exactly the tensors the int8 model quantizes)
/// in ONNX Runtime over calibration images, with those tensors exposed as extra outputs. Min-max needs one pass;
/// percentile and entropy run the images a second time to fill histograms laid out over the first pass's range.
/// </summary>
public sealed class ActivationCalibrator
{
    private readonly CalibrationMethod _method;
    private readonly double _percentile;
    private readonly int _bins;
    private readonly int _threads;

    /// <param name="method">How ranges are chosen.</param>
    /// <param name="percentile">Percent kept on each side by <see cref="CalibrationMethod.Percentile"/>.</param>
    /// <param name="bins">Histogram bins of the percentile and entropy methods.</param>
    /// <param name="threads">ONNX Runtime intra-op threads (0 = its choice).</param>
    public ActivationCalibrator(CalibrationMethod method, double percentile = PercentileCalibration.DefaultPercentile, int bins = ActivationHistogram.DefaultBins, int threads = 0)
    {
        _method = method;
        _percentile = percentile;
        _bins = bins;
        _threads = threads;
    }

    /// <summary>The range of every calibrated tensor of <paramref name="plan"/>, from the images of <paramref name="images"/> (one epoch).</summary>
    public async Task<Dictionary<string, ActivationRange>> CalibrateAsync(ModelProto fp32, QdqPlan plan, ITrainingData images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(images);
        var probe = fp32.Clone();
        var outputs = probe.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var tensor in plan.Calibrated.Where(t => !outputs.Contains(t)))
        {
            // Element type only: ONNX Runtime infers the shape.
            probe.Graph.Output.Add(new ValueInfoProto
            {
                Name = tensor,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }
        var names = plan.Calibrated.ToList();
        using var runner = new OnnxBatchRunner(probe, _threads);

        var minMax = names.ToDictionary(n => n, _ => new MinMaxObserver(), StringComparer.Ordinal);
        await ForEachAsync(runner, names, images, (name, values) => minMax[name].Observe(values), cancellationToken).ConfigureAwait(false);
        if (minMax.Values.Any(o => o.Count == 0))
        {
            throw new InvalidDataException("The calibration images produced no activations; are there any images?");
        }
        if (_method == CalibrationMethod.MinMax)
        {
            return minMax.ToDictionary(p => p.Key, p => p.Value.Range, StringComparer.Ordinal);
        }

        var histograms = names.ToDictionary(n => n, n => new ActivationHistogram(HistogramRange(minMax[n].Range), _bins), StringComparer.Ordinal);
        var entropy = _method == CalibrationMethod.Entropy;
        await ForEachAsync(runner, names, images, (name, values) =>
        {
            if (entropy)
            {
                var magnitudes = new float[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    magnitudes[i] = Math.Abs(values[i]);
                }
                histograms[name].Add(magnitudes);
            }
            else
            {
                histograms[name].Add(values);
            }
        }, cancellationToken).ConfigureAwait(false);
        return names.ToDictionary(
            n => n,
            n => entropy ? EntropyCalibration.Range(minMax[n].Range, histograms[n]) : PercentileCalibration.Range(histograms[n], _percentile),
            StringComparer.Ordinal);
    }

    private ActivationRange HistogramRange(ActivationRange range) =>
        _method == CalibrationMethod.Entropy ? new ActivationRange(0, Math.Max(Math.Abs(range.Min), Math.Abs(range.Max))) : range;

    private static async Task ForEachAsync(OnnxBatchRunner runner, List<string> names, ITrainingData images, Action<string, float[]> observe, CancellationToken cancellationToken)
    {
        await foreach (var batch in images.ReadEpochAsync(1, cancellationToken).ConfigureAwait(false))
        {
            var values = runner.Run(batch.Pixels, batch.Count, batch.Channels, batch.Height, batch.Width, names);
            for (var i = 0; i < names.Count; i++)
            {
                observe(names[i], values[i]);
            }
        }
    }
}
