namespace KdData.Export;

/// <summary>How <see cref="OnnxExporter"/> writes a network.</summary>
public sealed record OnnxExportOptions
{
    /// <summary>The default-domain opset written. 17 (ONNX 1.12; ONNX Runtime 1.12 and later run it).</summary>
    public const long DefaultOpset = 17;

    /// <summary>Name of the graph input, (batch, channels, height, width) float32. Default <c>input</c>.</summary>
    public string InputName { get; init; } = "input";

    /// <summary>Name of the graph output, (batch, classes) float32 logits. Default <c>logits</c>.</summary>
    public string OutputName { get; init; } = "logits";

    /// <summary>Symbolic name of the dynamic batch axis (axis 0 of input and output). Default <c>batch</c>.</summary>
    public string BatchAxisName { get; init; } = "batch";

    /// <summary>Input channels; required (the checkpoint's <c>architecture.in_channels</c>).</summary>
    public required int Channels { get; init; }

    /// <summary>Input height in pixels; required (the checkpoint's preprocessing height).</summary>
    public required int Height { get; init; }

    /// <summary>Input width in pixels; required (the checkpoint's preprocessing width).</summary>
    public required int Width { get; init; }

    /// <summary>Number of classes (logits); required.</summary>
    public required int NumClasses { get; init; }

    /// <summary>
    /// Fold each BatchNorm that directly follows a convolution into that convolution's weight and bias (default
    /// true). A BatchNorm that does not follow a convolution (pre-activation) is written as BatchNormalization.
    /// </summary>
    public bool FoldBatchNorm { get; init; } = true;

    /// <summary>Optional per-layer hook for every Conv/Gemm (see <see cref="OnnxLayerRewriter"/>). Default none.</summary>
    public OnnxLayerRewriter? LayerRewriter { get; init; }

    /// <summary>Free text stored as the model's doc string (e.g. the checkpoint it came from). Default empty.</summary>
    public string DocString { get; init; } = string.Empty;
}
