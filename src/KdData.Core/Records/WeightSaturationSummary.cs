using KdData.Quantization;

namespace KdData.Records;

/// <summary>
/// <c>quantization.json</c> <c>saturation</c>: whether the int8 weights can overflow the int16 pair sum of x86 CPUs
/// without VNNI, so a reader knows on which CPUs the int8 model computes what it should. <see cref="UnsafeWeights"/>
/// is settable so that JSON without it reads empty (see <see cref="QuantizationReport"/>).
/// </summary>
public sealed record WeightSaturationSummary
{
    /// <summary>True when no pair of weights can overflow.</summary>
    public required bool SafeWithoutVnni { get; init; }

    /// <summary>The largest 255·(|w|₁ + |w|₂) of any channel.</summary>
    public required int WorstPairSum { get; init; }

    /// <summary>The int16 limit it is compared with.</summary>
    public required int Int16Limit { get; init; }

    /// <summary>Weights that can overflow.</summary>
    public IReadOnlyList<string> UnsafeWeights { get; set; } = [];

    /// <summary>The summary of <paramref name="saturation"/>.</summary>
    public static WeightSaturationSummary From(PairSaturationReport saturation)
    {
        ArgumentNullException.ThrowIfNull(saturation);
        return new WeightSaturationSummary
        {
            SafeWithoutVnni = saturation.Safe,
            WorstPairSum = saturation.WorstPairSum,
            Int16Limit = PairSaturationCheck.PairLimit,
            UnsafeWeights = [.. saturation.Unsafe.Select(l => l.Weight)],
        };
    }
}
