namespace KdData.Evaluation;

/// <summary>The PNG charts written beside <c>evaluation.json</c> (file names relative to it).</summary>
public sealed record EvaluationChartFiles
{
    public const string LearningCurvesFile = "learning-curves.png";
    public const string ConfusionMatrixFile = "confusion-matrix.png";
    public const string ReliabilityDiagramFile = "reliability-diagram.png";

    /// <summary>Null when the checkpoint's folder has no <c>metrics.jsonl</c> with numeric columns.</summary>
    public string? LearningCurves { get; init; }

    public string? ConfusionMatrix { get; init; }

    public string? ReliabilityDiagram { get; init; }
}
