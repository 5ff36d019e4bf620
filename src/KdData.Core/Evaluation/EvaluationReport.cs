namespace KdData.Evaluation;

/// <summary>
/// <c>evaluation.json</c>: what was evaluated on what, and the results. Written with snake_case names
/// (as checkpoint records are) by <see cref="EvaluationReportWriter"/>.
/// </summary>
public sealed record EvaluationReport
{
    /// <summary>The file name of the report.</summary>
    public const string FileName = "evaluation.json";

    public required DateTimeOffset CreatedAt { get; init; }

    public required EvaluatedModel Checkpoint { get; init; }

    public required EvaluatedData Data { get; init; }

    /// <summary>Class names in logit order (the dataset's <c>classes.json</c>).</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>The checkpoint's metrics.</summary>
    public required ClassificationMetrics Metrics { get; init; }

    /// <summary>Present when a teacher checkpoint was given.</summary>
    public TeacherComparison? Teacher { get; init; }

    /// <summary>Present when a shard set was given.</summary>
    public PseudoLabelEvaluation? PseudoLabels { get; init; }

    /// <summary>The <c>metrics.jsonl</c> the learning curves were drawn from; null when there was none.</summary>
    public string? MetricsSource { get; init; }

    /// <summary>Chart files; filled in by <see cref="EvaluationReportWriter.WriteAsync"/>.</summary>
    public EvaluationChartFiles Charts { get; init; } = new();
}
