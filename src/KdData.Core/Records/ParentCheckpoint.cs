using System.Text.Json.Serialization;

namespace KdData.Records;

/// <summary>
/// The checkpoint a record was made from. Written as the bare path when only the path is known (a prune step's
/// <c>lineage.parent</c>, whose weights' SHA-256 sits beside it as <c>parent_sha256</c>), and as
/// <c>{"path": ..., "id": ...}</c> with the weights' id (QAT's <c>parent</c>), as those records always had it.
/// </summary>
[JsonConverter(typeof(ParentCheckpointJsonConverter))]
public sealed record ParentCheckpoint
{
    /// <summary>The parent's checkpoint record, as given to the stage.</summary>
    public required string Path { get; init; }

    /// <summary>First 16 hex digits of the parent's weights' SHA-256 (empty when its record had none); null = not recorded.</summary>
    public string? Id { get; init; }
}
