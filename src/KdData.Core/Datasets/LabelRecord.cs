using System.Text.Json.Serialization;

namespace KdData.Datasets;

/// <summary>One row of a labels manifest (<c>manifest.parquet</c>): an image key, its class and its split.</summary>
public sealed class LabelRecord
{
    /// <summary>Image key relative to the dataset root, e.g. <c>train/00012.png</c>.</summary>
    [JsonPropertyName("key")]
    public string Key { get; set; } = string.Empty;

    /// <summary>Class index into the dataset's <c>classes.json</c>.</summary>
    [JsonPropertyName("label")]
    public int Label { get; set; }

    /// <summary><see cref="DatasetSplits.Train"/> or <see cref="DatasetSplits.Test"/> (or a user-defined split).</summary>
    [JsonPropertyName("split")]
    public string Split { get; set; } = string.Empty;
}
