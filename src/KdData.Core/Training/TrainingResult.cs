namespace KdData.Training;

/// <summary>Outcome of <see cref="TrainingLoop.RunAsync(TrainingSetup, CancellationToken)"/>.</summary>
public sealed record TrainingResult
{
    /// <summary>Epochs completed so far, counting those done before a resume.</summary>
    public required int EpochsCompleted { get; init; }

    /// <summary>Highest evaluation accuracy of any completed epoch; NaN when no epoch completed.</summary>
    public required double BestEvalAccuracy { get; init; }

    /// <summary>Epoch of <see cref="BestEvalAccuracy"/> (the first one on ties); 0 when none.</summary>
    public required int BestEpoch { get; init; }

    /// <summary>
    /// True when cancellation stopped the run before the last epoch completed; the host should exit non-zero
    /// and rerun later to resume.
    /// </summary>
    public required bool Interrupted { get; init; }

    /// <summary>Record of the <c>last</c> checkpoint, or <c>null</c> when none was written.</summary>
    public string? LastCheckpointPath { get; init; }

    /// <summary>Record of the <c>best</c> checkpoint, or <c>null</c> when none was written.</summary>
    public string? BestCheckpointPath { get; init; }

    /// <summary>The <c>metrics.jsonl</c> file.</summary>
    public required string MetricsPath { get; init; }
}
