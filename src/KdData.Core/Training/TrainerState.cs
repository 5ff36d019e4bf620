using KdData.Records;

namespace KdData.Training;

/// <summary>
/// Where a run stands, stored in the <c>training</c> object of the <c>last</c> checkpoint record. The record is
/// written after the weights and the optimizer state it names, so it is the commit point of a save: whatever
/// record is on disk describes files that are complete.
/// </summary>
internal sealed record TrainerState
{
    /// <summary>Epoch the weights belong to (1-based); 0 before any training.</summary>
    public int Epoch { get; init; }

    /// <summary>False when the run was interrupted inside <see cref="Epoch"/>; a resume restarts that epoch.</summary>
    public bool EpochComplete { get; init; } = true;

    /// <summary>Steps of <see cref="Epoch"/> taken (all of them when complete).</summary>
    public int StepsInEpoch { get; init; }

    /// <summary>Epoch of the best evaluation accuracy so far; 0 when none.</summary>
    public int BestEpoch { get; init; }

    public double BestEvalAccuracy { get; init; }

    /// <summary>File name (in the output directory) of the optimizer state saved with these weights.</summary>
    public string? OptimizerStateFile { get; init; }

    public string? OptimizerSha256 { get; init; }

    /// <summary>File name of the weights being trained when the checkpoint holds their moving average; null without one.</summary>
    public string? RawWeightsFile { get; init; }

    public string? RawWeightsSha256 { get; init; }

    /// <summary>The distribution-alignment averages these weights were trained with; null without alignment.</summary>
    public DistributionAlignmentRecord? Alignment { get; init; }

    /// <summary>Epochs fully trained and evaluated.</summary>
    public int EpochsCompleted => EpochComplete ? Epoch : Epoch - 1;

    /// <summary><paramref name="training"/> with this state's members set (the best accuracy only when there is a best epoch).</summary>
    public TrainingRecord AddTo(TrainingRecord training) => training with
    {
        Epoch = Epoch,
        EpochComplete = EpochComplete,
        StepsInEpoch = StepsInEpoch,
        BestEpoch = BestEpoch,
        BestEvalAccuracy = BestEpoch > 0 ? BestEvalAccuracy : null,
        OptimizerState = OptimizerStateFile,
        OptimizerSha256 = OptimizerStateFile is null ? null : OptimizerSha256,
        RawWeights = RawWeightsFile,
        RawWeightsSha256 = RawWeightsFile is null ? null : RawWeightsSha256,
        DistributionAlignment = Alignment,
    };

    /// <exception cref="InvalidDataException">A member a resume needs is missing.</exception>
    public static TrainerState ReadFrom(TrainingRecord training, string recordPath)
    {
        ArgumentNullException.ThrowIfNull(training);
        var bestEpoch = training.BestEpoch ?? 0;
        return new TrainerState
        {
            Epoch = training.Epoch ?? throw Missing("epoch", recordPath),
            EpochComplete = training.EpochComplete ?? throw Missing("epoch_complete", recordPath),
            StepsInEpoch = training.StepsInEpoch ?? 0,
            BestEpoch = bestEpoch,
            BestEvalAccuracy = bestEpoch > 0 ? training.BestEvalAccuracy ?? throw Missing("best_eval_accuracy", recordPath) : 0,
            OptimizerStateFile = training.OptimizerState,
            OptimizerSha256 = training.OptimizerSha256,
            RawWeightsFile = training.RawWeights,
            RawWeightsSha256 = training.RawWeightsSha256,
            Alignment = training.DistributionAlignment,
        };
    }

    private static InvalidDataException Missing(string name, string recordPath) => new(
        $"Checkpoint record '{recordPath}' has no 'training.{name}'; it was not written by the supervised trainer and cannot be resumed from.");
}
