namespace KdData.Evaluation;

/// <summary>The shard set's part of <c>evaluation.json</c>: pseudo-label accuracy against the pool's withheld labels.</summary>
public sealed record PseudoLabelEvaluation
{
    /// <summary>The teacher folder read (<c>.../teacher=&lt;id&gt;/</c>).</summary>
    public required string Location { get; init; }

    /// <summary>Committed shard files read (accepted and, if present, rejected).</summary>
    public required int Files { get; init; }

    /// <summary>Prefix put before a shard key to find it among the pool's labels (e.g. <c>unlabeled/</c>).</summary>
    public required string KeyPrefix { get; init; }

    /// <summary>Accepted views only: what a trainer reads.</summary>
    public required PseudoLabelAccuracy Accepted { get; init; }

    /// <summary>Accepted and rejected views together (every view the teacher labeled); null when nothing was rejected.</summary>
    public PseudoLabelAccuracy? IncludingRejected { get; init; }
}
