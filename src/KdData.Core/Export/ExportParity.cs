namespace KdData.Export;

/// <summary>How closely the exported ONNX model reproduces the TorchSharp model's logits.</summary>
public sealed record ExportParity
{
    /// <summary>Images compared.</summary>
    public required int Images { get; init; }

    /// <summary>Where they came from: the dataset split evaluated, or seeded random inputs when no dataset was given.</summary>
    public required string Source { get; init; }

    /// <summary>Largest absolute logit difference, ONNX Runtime vs TorchSharp (fp32, eval mode).</summary>
    public required double MaxAbsDifference { get; init; }

    /// <summary>The tolerance the export is held to; the command fails when <see cref="MaxAbsDifference"/> exceeds it.</summary>
    public required double Tolerance { get; init; }

    /// <summary>Top-1 agreement between the two on those images.</summary>
    public required double Top1Agreement { get; init; }
}
