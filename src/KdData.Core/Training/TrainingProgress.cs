namespace KdData.Training;

/// <summary>
/// Reported after every training step, and once more at the end of each epoch with
/// <see cref="CompletedEpoch"/> set, so a host can draw a progress bar or log lines.
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>1-based epoch.</summary>
    public required int Epoch { get; init; }

    /// <summary>Total epochs of the run.</summary>
    public required int Epochs { get; init; }

    /// <summary>1-based step within the epoch.</summary>
    public required int Step { get; init; }

    /// <summary>Expected steps per epoch (from the data source).</summary>
    public required int StepsPerEpoch { get; init; }

    /// <summary>Optimizer steps taken since the start of training, including before a resume.</summary>
    public required long GlobalStep { get; init; }

    /// <summary>Loss of the last batch.</summary>
    public required double Loss { get; init; }

    /// <summary>Learning rate used by the last step.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Training samples per second so far in this epoch.</summary>
    public required double ImagesPerSecond { get; init; }

    /// <summary>The epoch's results on the end-of-epoch report; <c>null</c> on step reports.</summary>
    public EpochMetrics? CompletedEpoch { get; init; }
}
