using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.SoftTargets;

/// <summary>
/// One partition's commit log, <c>teacher=&lt;id&gt;/_manifests/partition-IIIIofNNNN.json</c>: the shard
/// files that are committed. A shard file counts only once listed here; the manifest is replaced
/// only if unchanged since it was read (ETag), so a commit is all-or-nothing.
/// </summary>
public sealed record PartitionManifest
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    [JsonPropertyName("partition")]
    public int Partition { get; init; }

    [JsonPropertyName("partition_count")]
    public int PartitionCount { get; init; }

    /// <summary>Sequence number the next commit uses.</summary>
    [JsonPropertyName("next_sequence")]
    public int NextSequence { get; init; }

    [JsonPropertyName("commits")]
    public IReadOnlyList<PartitionCommit> Commits { get; init; } = [];

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static PartitionManifest Parse(byte[] json, string name) =>
        JsonSerializer.Deserialize<PartitionManifest>(json)
        ?? throw new InvalidDataException($"Labeling manifest '{name}' is empty.");
}
