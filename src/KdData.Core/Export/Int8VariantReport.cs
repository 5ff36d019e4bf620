using KdData.Quantization;

namespace KdData.Export;

/// <summary>
/// What <c>export</c> found about the int8 model it measured: the scheme the file records, whether its weights can
/// overflow the int16 pair sum of CPUs without VNNI (<see cref="PairSaturationCheck"/>), and its top-1 agreement with
/// its own float computation and with the exported fp32 model on the evaluated split (<see cref="Int8AgreementCheck"/>).
/// </summary>
public sealed record Int8VariantReport
{
    /// <summary>The int8 model measured.</summary>
    public required string File { get; init; }

    /// <summary>Weight bits recorded in the model (7 or 8); null for a model that does not record them.</summary>
    public int? WeightBits { get; init; }

    /// <summary>The scheme in words, as the model records it; null when it does not.</summary>
    public string? Scheme { get; init; }

    /// <summary>True when no weight can overflow the int16 pair sum: the model computes the same on every CPU.</summary>
    public required bool SafeWithoutVnni { get; init; }

    /// <summary>The largest 255·(|w|₁ + |w|₂) over the model's weights (the limit is 32,767).</summary>
    public required int WorstPairSum { get; init; }

    /// <summary>
    /// The check: top-1 agreement of the int8 model as ONNX Runtime runs it here (fused integer kernels) with the same
    /// QDQ graph computed in float (no graph optimizations), on the evaluated split; null without a dataset. It fails
    /// where this CPU's kernels compute something else, e.g. 8-bit weights without VNNI.
    /// </summary>
    public Int8AgreementCheck? Agreement { get; init; }

    /// <summary>Top-1 agreement with the exported fp32 ONNX model on the evaluated split (reported; QAT weights differ from it on purpose); null without a dataset.</summary>
    public double? AgreementWithExportedFp32 { get; init; }
}
