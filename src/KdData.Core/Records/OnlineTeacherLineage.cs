namespace KdData.Records;

/// <summary><c>lineage.online_teacher</c>: the teacher run on every training batch in online distillation.</summary>
public sealed record OnlineTeacherLineage
{
    /// <summary>First 16 hex digits of its weights' SHA-256.</summary>
    public required string Id { get; init; }

    /// <summary>Its checkpoint record, as given.</summary>
    public required string Checkpoint { get; init; }

    /// <summary>Whether the dataset's unlabeled pool was trained on too.</summary>
    public bool Pool { get; init; }
}
