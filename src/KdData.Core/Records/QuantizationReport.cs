using System.Text.Json.Serialization;
using KdData.Export;

namespace KdData.Records;

/// <summary>
/// <c>quantization.json</c>, written by <c>kddata-trainer quantize</c>: how the int8 model was made (calibration,
/// scheme, QAT) and how it compares with fp32 in ONNX Runtime on the evaluation split (accuracy, ECE, agreement, size).
/// Bench scripts and the pipeline's readers query it by these names. The members added after the first version of the
/// report (<see cref="WeightBits"/>, <see cref="Saturation"/>, <see cref="Cpu"/>, <see cref="AgreementCheck"/>,
/// <see cref="Qat"/>) are optional so older reports still read.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record QuantizationReport
{
    /// <summary>The layout version this build writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Layout version; absent in reports written before the report had a type (= <see cref="RecordFormat.Legacy"/>).</summary>
    public int FormatVersion { get; set; } = RecordFormat.Legacy;

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary><c>ptq</c> or <c>qat</c>.</summary>
    public required string Method { get; init; }

    /// <summary>The quantized checkpoint.</summary>
    public required QuantizedCheckpoint Checkpoint { get; init; }

    /// <summary>The dataset location.</summary>
    public required string Dataset { get; init; }

    public required CalibrationSummary Calibration { get; init; }

    /// <summary>The QDQ scheme in words.</summary>
    public required string Scheme { get; init; }

    /// <summary>Bits of the int8 weights (7 cannot overflow any CPU's int8 kernel).</summary>
    public int? WeightBits { get; init; }

    public WeightSaturationSummary? Saturation { get; init; }

    /// <summary>The CPU the figures were measured on.</summary>
    public CpuInstructionSet? Cpu { get; init; }

    /// <summary>ONNX default-domain opset of both models.</summary>
    public required long Opset { get; init; }

    /// <summary>The split both models were evaluated on.</summary>
    public required string EvalSplit { get; init; }

    /// <summary>Images evaluated.</summary>
    public required int Images { get; init; }

    /// <summary>The fp32 model's scores and size.</summary>
    public required OnnxModelSummary Fp32 { get; init; }

    /// <summary>The int8 model's scores and size (<c>int8</c> in the JSON).</summary>
    [JsonPropertyName("int8")]
    public required OnnxModelSummary Int8Model { get; init; }

    /// <summary>fp32 minus int8 accuracy, in percentage points.</summary>
    public required double AccuracyDropPoints { get; init; }

    /// <summary>int8 file size over fp32 file size.</summary>
    public required double SizeRatio { get; init; }

    /// <summary>Share of images where int8 and fp32 predict the same class.</summary>
    public required double Top1Agreement { get; init; }

    /// <summary>The agreement check that can stop the run (exit 5).</summary>
    public AgreementCheckSummary? AgreementCheck { get; init; }

    /// <summary>Mean KL(fp32 || int8) of the predicted distributions.</summary>
    public required double MeanKlFp32Int8 { get; init; }

    /// <summary>Quantization-aware training; written as null after post-training quantization.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public QatSummary? Qat { get; init; }
}
