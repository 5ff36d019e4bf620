using KdData.Evaluation;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Export;

/// <summary>
/// Evaluates and times one variant of a model the same way as every other: accuracy and calibration on the given
/// images (TorchSharp through <see cref="Evaluator"/>, ONNX Runtime batch by batch), then latency at each batch size
/// (<see cref="LatencyMeter"/>; each call includes turning the float array into the engine's tensor, as serving
/// does), and the process's peak resident memory over both. TorchSharp runs under inference mode with
/// <c>set_num_threads(threads)</c> applied by the caller; ONNX Runtime sessions are created with the same count.
/// </summary>
public sealed class VariantMeasurer
{
    private readonly IReadOnlyList<int> _batchSizes;
    private readonly int _warmup;
    private readonly int _iterations;
    private readonly int _evaluationBatch;
    private readonly int _calibrationBins;
    private readonly bool _measure;

    public VariantMeasurer(bool measure, IReadOnlyList<int> batchSizes, int warmup, int iterations, int evaluationBatch, int calibrationBins)
    {
        ArgumentNullException.ThrowIfNull(batchSizes);
        _measure = measure;
        _batchSizes = batchSizes;
        _warmup = warmup;
        _iterations = iterations;
        _evaluationBatch = evaluationBatch;
        _calibrationBins = calibrationBins;
    }

    /// <summary>A TorchSharp fp32 model (CPU); <paramref name="timing"/> supplies timing inputs, <paramref name="labeled"/> (optional) is evaluated.</summary>
    public async Task<(ExportVariant Variant, ClassificationMetrics? Metrics)> MeasureTorchAsync(
        string name, nn.Module<Tensor, Tensor> model, string file, EvaluationImages timing, EvaluationImages? labeled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(timing);
        var resetPeak = ProcessMemory.TryResetPeak();
        ClassificationMetrics? metrics = null;
        if (labeled is { Labeled: true })
        {
            var data = new InMemoryTrainingData(labeled.Pixels, labeled.Labels, labeled.Channels, labeled.Height, labeled.Width, _evaluationBatch);
            var outputs = await new Evaluator(CPU).RunAsync(model, data, cancellationToken).ConfigureAwait(false);
            metrics = outputs.ComputeMetrics(_calibrationBins);
        }

        var latency = new List<LatencyStatistics>();
        if (_measure)
        {
            var training = model.training;
            model.eval();
            try
            {
                foreach (var batch in _batchSizes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var pixels = timing.Batch(batch);
                    long[] dims = [batch, timing.Channels, timing.Height, timing.Width];
                    latency.Add(LatencyMeter.Measure(() =>
                    {
                        using var scope = NewDisposeScope();
                        using var mode = inference_mode();
                        using var logits = model.call(tensor(pixels, dims));
                    }, batch, _warmup, _iterations));
                }
            }
            finally
            {
                model.train(training);
            }
        }

        var variant = Variant(name, "torchsharp", "fp32", file, metrics, latency, resetPeak);
        return (variant, metrics);
    }

    /// <summary>An ONNX model in an ONNX Runtime session.</summary>
    public (ExportVariant Variant, ClassificationMetrics? Metrics) MeasureOnnx(
        string name, string precision, OnnxModelSession session, string file, EvaluationImages timing, EvaluationImages? labeled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(timing);
        var resetPeak = ProcessMemory.TryResetPeak();
        ClassificationMetrics? metrics = null;
        if (labeled is { Labeled: true })
        {
            var logits = Logits(session, labeled, _evaluationBatch, cancellationToken);
            metrics = ClassificationMetrics.Compute(logits, labeled.Labels, labeled.NumClasses, _calibrationBins);
        }

        var latency = new List<LatencyStatistics>();
        if (_measure)
        {
            foreach (var batch in _batchSizes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var pixels = timing.Batch(batch);
                latency.Add(LatencyMeter.Measure(() => session.Run(pixels, batch), batch, _warmup, _iterations));
            }
        }

        return (Variant(name, "onnxruntime", precision, file, metrics, latency, resetPeak), metrics);
    }

    /// <summary>Logits of every image of <paramref name="images"/> through <paramref name="session"/>, in order.</summary>
    public static float[] Logits(OnnxModelSession session, EvaluationImages images, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(images);
        var logits = new float[(long)images.Count * images.NumClasses];
        for (var start = 0; start < images.Count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(batchSize, images.Count - start);
            var batch = session.Run(images.Pixels.AsMemory(start * images.ImageSize, count * images.ImageSize), count);
            Array.Copy(batch, 0, logits, (long)start * images.NumClasses, batch.Length);
        }
        return logits;
    }

    private ExportVariant Variant(string name, string engine, string precision, string file, ClassificationMetrics? metrics, List<LatencyStatistics> latency, bool resetPeak) => new()
    {
        Name = name,
        Engine = engine,
        Precision = precision,
        File = file,
        FileBytes = new FileInfo(file).Length,
        Accuracy = metrics?.Accuracy,
        ExpectedCalibrationError = metrics?.ExpectedCalibrationError,
        Latency = latency,
        // Without a reset the kernel's peak covers the whole process so far, which says little about one variant.
        PeakResidentBytes = _measure && resetPeak ? ProcessMemory.PeakResidentBytes() : null,
    };
}
