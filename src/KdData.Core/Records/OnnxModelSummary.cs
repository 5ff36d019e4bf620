using KdData.Evaluation;

namespace KdData.Records;

/// <summary><c>quantization.json</c> <c>fp32</c> and <c>int8</c>: one model's scores in ONNX Runtime and its file size.</summary>
public sealed record OnnxModelSummary
{
    public required double Accuracy { get; init; }

    public required double ExpectedCalibrationError { get; init; }

    public required double NegativeLogLikelihood { get; init; }

    public required double MeanConfidence { get; init; }

    /// <summary>Size of the ONNX file.</summary>
    public required long FileBytes { get; init; }

    /// <summary>The summary of <paramref name="metrics"/> for a file of <paramref name="fileBytes"/> bytes.</summary>
    public static OnnxModelSummary From(ClassificationMetrics metrics, long fileBytes)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return new OnnxModelSummary
        {
            Accuracy = metrics.Accuracy,
            ExpectedCalibrationError = metrics.ExpectedCalibrationError,
            NegativeLogLikelihood = metrics.NegativeLogLikelihood,
            MeanConfidence = metrics.MeanConfidence,
            FileBytes = fileBytes,
        };
    }
}
