using System.Text.Json.Serialization;

namespace KdData.Records;

/// <summary><c>quantization.json</c> <c>calibration</c>: how the activation ranges were found, and the ranges.</summary>
public sealed record CalibrationSummary
{
    /// <summary><c>MinMax</c>, <c>Percentile</c> or <c>Entropy</c>.</summary>
    public required string Method { get; init; }

    /// <summary>The split calibrated on.</summary>
    public required string Split { get; init; }

    /// <summary>Images calibrated on.</summary>
    public required int Images { get; init; }

    /// <summary>Seed of the image sample.</summary>
    public required int Seed { get; init; }

    /// <summary>Percentile kept; written as null for the other methods.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public double? Percentile { get; init; }

    /// <summary>Histogram bins; written as null for min-max.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int? HistogramBins { get; init; }

    /// <summary>[min, max] of every calibrated activation, by tensor name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<float>> Ranges { get; init; }
}
