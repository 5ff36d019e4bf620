using KdData.Augmentation;
using KdData.Datasets;
using KdData.Objectives;
using KdData.Training;

namespace KdData.Distillation;

/// <summary>
/// What <see cref="DistillationInputs.LoadAsync"/> reads and how, as one object rather than a long parameter list:
/// every stage that trains with knowledge distillation (distill, the KD fine-tune after each prune step, QAT) starts
/// from <see cref="DistillationDataSettings.InputOptions"/> and sets only what is its own, leaving the distill stage's
/// extras (online teacher, augmentation) unset. The services the load runs on (stores, device, logging) are passed
/// beside it.
/// </summary>
public sealed record DistillationInputOptions
{
    /// <summary>The dataset, objective, shard selection, batch mix and images (QAT passes the checkpoint's own images).</summary>
    public required DistillationDataSettings Settings { get; init; }

    /// <summary>The objective the batches are for; one that needs a teacher makes the shards required.</summary>
    public required ITrainingObjective Objective { get; init; }

    /// <summary>Training images per batch.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Seed of the batch order and of the augmentation.</summary>
    public required int Seed { get; init; }

    /// <summary>
    /// The teacher checkpoint for the evaluation split's KL and agreement: <c>null</c> = the online teacher or else the
    /// shards' teacher, <c>none</c> = off.
    /// </summary>
    public string? EvalTeacher { get; init; }

    /// <summary>The distill stage's online teacher: it labels every batch and no shards are read. Null = offline, from the shards.</summary>
    public OnlineTeacher? Online { get; init; }

    /// <summary>
    /// Self-teaching (FixMatch, <c>Trainer:Distill:Teacher=self</c>): the student labels every batch itself, so, as with
    /// <see cref="Online"/>, no shards are read and pool images need no cached view. Excludes <see cref="Online"/>.
    /// </summary>
    public bool SelfTeaching { get; init; }

    /// <summary>True when a teacher runs in the loop (<see cref="Online"/> or <see cref="SelfTeaching"/>): no shards are read.</summary>
    public bool InLoopTeacher => Online is not null || SelfTeaching;

    /// <summary>With an in-loop teacher: train on the dataset's whole unlabeled pool too (<c>Trainer:Distill:OnlinePool</c>).</summary>
    public bool OnlinePool { get; init; }

    /// <summary>MixUp / CutMix / RandAugment of the batches (the distill stage's); null = none.</summary>
    public DistillationAugmentOptions? Augment { get; init; }

    /// <summary>The split evaluated each epoch. Default <c>test</c>.</summary>
    public string EvalSplit { get; init; } = DatasetSplits.Test;

    /// <summary>Images per batch of the in-memory evaluation split. Default 256.</summary>
    public int EvalBatchSize { get; init; } = 256;
}
