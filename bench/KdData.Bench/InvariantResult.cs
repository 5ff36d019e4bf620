using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>What a case's output holds as committed, and every way it breaks the exactly-once invariant (none when intact).</summary>
internal sealed record InvariantResult
{
    /// <summary>At most this many problems are kept; <see cref="ProblemCount"/> counts them all.</summary>
    public const int MaxProblems = 20;

    [JsonPropertyName("intact")]
    public bool Intact => ProblemCount == 0;

    /// <summary>Input images (the listing of the input after the run).</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; }

    [JsonPropertyName("manifests")]
    public int Manifests { get; init; }

    [JsonPropertyName("commits")]
    public int Commits { get; init; }

    [JsonPropertyName("accepted_rows")]
    public long AcceptedRows { get; init; }

    [JsonPropertyName("rejected_rows")]
    public long RejectedRows { get; init; }

    [JsonPropertyName("error_rows")]
    public long ErrorRows { get; init; }

    /// <summary>Shard files the manifests name.</summary>
    [JsonPropertyName("committed_files")]
    public int CommittedFiles { get; init; }

    /// <summary><c>.parquet</c> objects under the teacher folder, named by a manifest or not.</summary>
    [JsonPropertyName("present_files")]
    public int PresentFiles { get; init; }

    [JsonPropertyName("problem_count")]
    public int ProblemCount { get; init; }

    /// <summary>The first <see cref="MaxProblems"/> problems, one line each.</summary>
    [JsonPropertyName("problems")]
    public IReadOnlyList<string> Problems { get; init; } = [];
}
