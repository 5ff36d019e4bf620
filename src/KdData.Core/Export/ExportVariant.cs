namespace KdData.Export;

/// <summary>
/// One deployable form of the model, measured the same way as the others (same images, threads, batches).
/// <see cref="Latency"/> is settable so that JSON without it reads empty (see <see cref="ExportReport"/>).
/// </summary>
public sealed record ExportVariant
{
    /// <summary>Short label for tables and charts, e.g. <c>fp32 TorchSharp</c>, <c>int8 ONNX Runtime</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>torchsharp</c> or <c>onnxruntime</c>.</summary>
    public required string Engine { get; init; }

    /// <summary><c>fp32</c> or <c>int8</c>.</summary>
    public required string Precision { get; init; }

    /// <summary>The file that is deployed: the safetensors weights or the <c>.onnx</c> model.</summary>
    public required string File { get; init; }

    /// <summary>Size of <see cref="File"/> in bytes.</summary>
    public required long FileBytes { get; init; }

    /// <summary>Top-1 accuracy on the evaluated split; null when no dataset was given.</summary>
    public double? Accuracy { get; init; }

    /// <summary>Expected calibration error on the evaluated split; null when no dataset was given.</summary>
    public double? ExpectedCalibrationError { get; init; }

    /// <summary>Latency per batch size measured (empty when measurement was off).</summary>
    public IReadOnlyList<LatencyStatistics> Latency { get; set; } = [];

    /// <summary>Peak resident bytes of the process while this variant was evaluated and timed (null when not measured).</summary>
    public long? PeakResidentBytes { get; init; }
}
