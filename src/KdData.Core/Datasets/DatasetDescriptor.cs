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

    /// <summary>
    /// How the images are stored: <c>loose</c>, <c>parquet</c> or <c>tar</c> (<see cref="DatasetFormat"/>, lower case).
    /// Descriptors written before packed datasets have no such field and read as <c>loose</c>, which they are.
    /// </summary>
    [JsonPropertyName("format")]
    public string Format { get; init; } = FormatName(DatasetFormat.Loose);

    /// <summary>Most images per shard of a packed dataset (0 for loose ones, and then not written).</summary>
    [JsonPropertyName("shard_size")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int ShardSize { get; init; }

    /// <summary>Rows per row group of a Parquet dataset (0 otherwise, and then not written).</summary>
    [JsonPropertyName("row_group_size")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int RowGroupSize { get; init; }

    /// <summary>The name <see cref="Format"/> records for <paramref name="format"/>.</summary>
    public static string FormatName(DatasetFormat format) => format.ToString().ToLowerInvariant();

    /// <summary>True when two imports would produce the same objects.</summary>
    public bool SameSettingsAs(DatasetDescriptor other) =>
        other is not null && LabeledFraction.Equals(other.LabeledFraction) && Seed == other.Seed &&
        TrainLimit == other.TrainLimit && TestLimit == other.TestLimit && Classes.SequenceEqual(other.Classes) &&
        string.Equals(Format, other.Format, StringComparison.OrdinalIgnoreCase) && ShardSize == other.ShardSize && RowGroupSize == other.RowGroupSize;
}
