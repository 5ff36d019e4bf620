namespace KdData.Records;

/// <summary>
/// <c>training.export</c> of the record <c>kddata-trainer export</c> writes beside <c>model.onnx</c>: which checkpoint
/// the exported weights are, and the ONNX file made from them, so a deployed model can be traced back to its run.
/// </summary>
public sealed record CheckpointExportRecord
{
    /// <summary>Always <c>export</c>.</summary>
    public string? Stage { get; init; }

    /// <summary>Full path of the exported checkpoint record.</summary>
    public string? Parent { get; init; }

    /// <summary>SHA-256 of that checkpoint's weights.</summary>
    public string? ParentWeightsSha256 { get; init; }

    /// <summary>File name of the ONNX model.</summary>
    public string? Onnx { get; init; }

    /// <summary>SHA-256 of the ONNX model.</summary>
    public string? OnnxSha256 { get; init; }

    /// <summary>ONNX default-domain opset.</summary>
    public long? Opset { get; init; }
}
