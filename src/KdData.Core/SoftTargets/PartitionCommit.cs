using System.Text.Json.Serialization;

namespace KdData.SoftTargets;

/// <summary>One commit of a partition: its shard files (keys relative to the teacher folder) and row counts.</summary>
public sealed record PartitionCommit
{
    [JsonPropertyName("sequence")]
    public int Sequence { get; init; }

    [JsonPropertyName("committed_at")]
    public DateTimeOffset CommittedAt { get; init; }

    /// <summary>Accepted soft targets; null when the commit had none.</summary>
    [JsonPropertyName("accepted")]
    public string? Accepted { get; init; }

    /// <summary>Views below the confidence threshold (same schema); null when none.</summary>
    [JsonPropertyName("rejected")]
    public string? Rejected { get; init; }

    /// <summary>Images that could not be labeled; null when none.</summary>
    [JsonPropertyName("errors")]
    public string? Errors { get; init; }

    [JsonPropertyName("accepted_rows")]
    public int AcceptedRows { get; init; }

    [JsonPropertyName("rejected_rows")]
    public int RejectedRows { get; init; }

    [JsonPropertyName("error_rows")]
    public int ErrorRows { get; init; }

    /// <summary>Images whose every view (or error) is in this commit.</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; }

    [JsonIgnore]
    public IEnumerable<string> Files => new[] { Accepted, Rejected, Errors }.OfType<string>();
}
