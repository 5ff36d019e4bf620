using KdData.Imaging;
using KdData.Objectives;
using KdData.Training;

namespace KdData.Distillation;

/// <summary>
/// The settings every stage that trains with knowledge distillation reads its data with (distill, the KD fine-tune
/// after each prune step, QAT), bundled: the dataset (<c>Trainer:Data</c>), the objective (<c>Trainer:Objective</c>),
/// the shard selection (<c>Trainer:Distill:Shards</c>), the batch mix (<c>Trainer:Distill:Mix</c>) and the images
/// (<c>Imaging</c>). The host binds and validates each section and hands the stages this one object, so a stage asks
/// for its data in one line (<see cref="InputOptions"/>) and adds only what is its own.
/// </summary>
public sealed record DistillationDataSettings
{
    /// <summary>The dataset and its decoding.</summary>
    public required TrainingDataOptions Data { get; init; }

    /// <summary>The objective and curriculum.</summary>
    public required ObjectiveOptions ObjectiveOptions { get; init; }

    /// <summary>Which shard sets are read and how they are re-thresholded.</summary>
    public required ShardSelectionOptions Shards { get; init; }

    /// <summary>The labeled / pseudo-labeled mix of each batch.</summary>
    public required DistillationMixOptions Mix { get; init; }

    /// <summary>Decoding and preprocessing of every image.</summary>
    public required ImageOptions Images { get; init; }

    /// <summary>
    /// What <see cref="DistillationInputs"/> loads for a stage training <paramref name="objective"/> with
    /// <paramref name="loop"/>'s batch size and seed: offline, from the shards, evaluated on the test split with the
    /// shards' teacher. The stage sets its own members (evaluation teacher, online teacher, images, ...) with <c>with</c>.
    /// </summary>
    public DistillationInputOptions InputOptions(ITrainingObjective objective, TrainingLoopOptions loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        return new DistillationInputOptions { Settings = this, Objective = objective, BatchSize = loop.BatchSize, Seed = loop.Seed };
    }
}
