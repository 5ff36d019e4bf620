using System.Text.Json.Serialization;

namespace KdData.Trainer;

/// <summary>
/// A finished sweep point, written as <c>sweep-point.json</c> in its folder when its distill run completes (the
/// marker a rerun skips it by) and collected into <c>sweep.json</c>.
/// </summary>
public sealed record SweepPointResult
{
    [JsonPropertyName("index")]
    public required int Index { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>The grid settings of this point (axis key -> value).</summary>
    [JsonPropertyName("settings")]
    public required IReadOnlyDictionary<string, string> Settings { get; init; }

    /// <summary>Highest per-epoch accuracy on the evaluation split (the dataset's test split) over the run.</summary>
    [JsonPropertyName("best_accuracy")]
    public required double BestAccuracy { get; init; }

    /// <summary>The epoch of <see cref="BestAccuracy"/> (1-based).</summary>
    [JsonPropertyName("best_epoch")]
    public required int BestEpoch { get; init; }

    /// <summary>Accuracy after the last epoch.</summary>
    [JsonPropertyName("last_accuracy")]
    public required double LastAccuracy { get; init; }

    /// <summary>Epochs trained.</summary>
    [JsonPropertyName("epochs")]
    public required int Epochs { get; init; }

    /// <summary>Training seconds summed over the epochs (from metrics.jsonl).</summary>
    [JsonPropertyName("seconds")]
    public required double Seconds { get; init; }
}
