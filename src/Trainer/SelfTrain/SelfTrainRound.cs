namespace KdData.Trainer;

/// <summary>
/// One finished self-training round, as written to <c>round-N/round.json</c> (its presence means "done": a rerun skips
/// the round) and to the table. Accuracies are on the dataset's test split; the pseudo-label accuracy is the share of
/// the teacher's accepted pool views whose top-1 class is the pool image's withheld label (<c>pool-labels.parquet</c>).
/// </summary>
public sealed record SelfTrainRound
{
    /// <summary>File name of the record inside the round's folder.</summary>
    public const string FileName = "round.json";

    public required int Round { get; init; }

    /// <summary>The teacher's checkpoint record: the given teacher in round 1, the previous round's student after.</summary>
    public required string TeacherCheckpoint { get; init; }

    /// <summary>First 16 hex digits of the teacher weights' SHA-256 (its <c>teacher=&lt;id&gt;/</c> folder).</summary>
    public required string TeacherId { get; init; }

    public required double TeacherAccuracy { get; init; }

    public required long TeacherParameters { get; init; }

    /// <summary>Null when the dataset has no <c>pool-labels.parquet</c>.</summary>
    public double? PseudoLabelAccuracy { get; init; }

    /// <summary>Share of the pool's images with at least one accepted view; null without pool labels.</summary>
    public double? PseudoLabelCoverage { get; init; }

    /// <summary>The student's last checkpoint (never the best one: choosing by test accuracy would leak the test set).</summary>
    public required string StudentCheckpoint { get; init; }

    public required string StudentId { get; init; }

    public required double StudentAccuracy { get; init; }

    public required long StudentParameters { get; init; }

    /// <summary>Top-1 agreement of student and teacher on the test split.</summary>
    public double? Agreement { get; init; }

    public required SelfTrainLabeling PoolLabeling { get; init; }

    public required SelfTrainLabeling TrainLabeling { get; init; }

    /// <summary>Wall-clock seconds of the round's last run (labeling, distillation, evaluations).</summary>
    public required double Seconds { get; init; }
}
