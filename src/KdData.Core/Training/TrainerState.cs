using System.Globalization;
using System.Text.Json.Nodes;

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

    /// <summary>Epochs fully trained and evaluated.</summary>
    public int EpochsCompleted => EpochComplete ? Epoch : Epoch - 1;

    public void WriteTo(JsonObject training)
    {
        training["epoch"] = Epoch;
        training["epoch_complete"] = EpochComplete;
        training["steps_in_epoch"] = StepsInEpoch;
        training["best_epoch"] = BestEpoch;
        if (BestEpoch > 0)
        {
            training["best_eval_accuracy"] = BestEvalAccuracy;
        }
        if (OptimizerStateFile is not null)
        {
            training["optimizer_state"] = OptimizerStateFile;
            training["optimizer_sha256"] = OptimizerSha256;
        }
    }

    /// <exception cref="InvalidDataException">A field is missing or has the wrong type.</exception>
    public static TrainerState ReadFrom(JsonObject training, string recordPath)
    {
        try
        {
            var bestEpoch = training["best_epoch"]?.GetValue<int>() ?? 0;
            return new TrainerState
            {
                Epoch = Required(training, "epoch", recordPath).GetValue<int>(),
                EpochComplete = Required(training, "epoch_complete", recordPath).GetValue<bool>(),
                StepsInEpoch = training["steps_in_epoch"]?.GetValue<int>() ?? 0,
                BestEpoch = bestEpoch,
                BestEvalAccuracy = bestEpoch > 0 ? Required(training, "best_eval_accuracy", recordPath).GetValue<double>() : 0,
                OptimizerStateFile = training["optimizer_state"]?.GetValue<string>(),
                OptimizerSha256 = training["optimizer_sha256"]?.GetValue<string>(),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException(
                string.Format(CultureInfo.InvariantCulture, "Checkpoint record '{0}' has a malformed 'training' state: {1}", recordPath, ex.Message), ex);
        }
    }

    private static JsonNode Required(JsonObject training, string name, string recordPath) =>
        training[name] ?? throw new InvalidDataException(
            $"Checkpoint record '{recordPath}' has no 'training.{name}'; it was not written by the supervised trainer and cannot be resumed from.");
}
