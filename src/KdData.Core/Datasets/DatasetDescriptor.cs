using System.Text.Json.Serialization;

namespace KdData.Datasets;

/// <summary>
/// <c>dataset.json</c>: what an import produced and from what. Written last, so its presence marks a
/// complete import; a rerun with the same settings finds it and does nothing.
/// </summary>
public sealed record DatasetDescriptor
{
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("labeled_fraction")]
    public double LabeledFraction { get; init; }

    [JsonPropertyName("seed")]
    public ulong Seed { get; init; }

    [JsonPropertyName("train_limit")]
    public int TrainLimit { get; init; }

    [JsonPropertyName("test_limit")]
    public int TestLimit { get; init; }

    [JsonPropertyName("width")]
    public int Width { get; init; }

    [JsonPropertyName("height")]
    public int Height { get; init; }

    [JsonPropertyName("channels")]
    public int Channels { get; init; } = 1;

    [JsonPropertyName("classes")]
    public IReadOnlyList<string> Classes { get; init; } = [];

    [JsonPropertyName("labeled_count")]
    public int LabeledCount { get; init; }

    [JsonPropertyName("pool_count")]
    public int PoolCount { get; init; }

    [JsonPropertyName("test_count")]
    public int TestCount { get; init; }

    /// <summary>True when two imports would produce the same objects.</summary>
    public bool SameSettingsAs(DatasetDescriptor other) =>
        other is not null && LabeledFraction.Equals(other.LabeledFraction) && Seed == other.Seed &&
        TrainLimit == other.TrainLimit && TestLimit == other.TestLimit && Classes.SequenceEqual(other.Classes);
}
