namespace KdData.Evaluation;

/// <summary>The teacher's part of <c>evaluation.json</c>: its own metrics and the student's agreement with it, on the same images.</summary>
public sealed record TeacherComparison
{
    public required EvaluatedModel Checkpoint { get; init; }

    /// <summary>The teacher's metrics on the evaluated images.</summary>
    public required ClassificationMetrics Metrics { get; init; }

    /// <summary>Top-1 agreement and KL(teacher || student) at T = 1.</summary>
    public required TeacherAgreement Agreement { get; init; }
}
