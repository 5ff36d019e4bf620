using KdData.Models;
using KdData.Objectives;
using KdData.Records;

namespace KdData.Training;

/// <summary>What to train, on what, with which per-epoch objective schedule, and where the checkpoints and metrics go.</summary>
public sealed record TrainingSetup
{
    /// <summary>Architecture of the model; written into every checkpoint record. Required.</summary>
    public required ModelSpec Architecture { get; init; }

    /// <summary>Training batches (shuffled per epoch). Required.</summary>
    public required ITrainingData Train { get; init; }

    /// <summary>Held-out batches evaluated after each epoch (epoch number ignored). Required.</summary>
    public required ITrainingData Eval { get; init; }

    /// <summary>
    /// Directory of <c>metrics.jsonl</c> and the <c>last</c>/<c>best</c> checkpoints; a run finding a
    /// <c>last</c> checkpoint there resumes from it. Required.
    /// </summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Class names in logit order, copied into the records. Default empty.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Preprocessing the batches went through, copied into the records. Default <c>null</c>.</summary>
    public PreprocessingRecord? Preprocessing { get; init; }

    /// <summary>
    /// Temperature and alpha of the objective for (epoch, epochs), 1-based: the distillation curriculum. Default
    /// <c>null</c> = <see cref="ObjectiveSchedule.Supervised"/> every epoch.
    /// </summary>
    public Func<int, int, ObjectiveSchedule>? Schedule { get; init; }

    /// <summary>
    /// What the run derives from (teacher id, shard sets, thresholds, curriculum, parent checkpoint), copied into every
    /// checkpoint record as <c>training.lineage</c>. Default <c>null</c>.
    /// </summary>
    public LineageRecord? Lineage { get; init; }

    /// <summary>
    /// Online distillation: a frozen teacher run on every training batch (exactly the student's input, under
    /// <c>no_grad</c>); its logits replace whatever teacher logits the batch carries, for every sample. The caller
    /// owns it. Default <c>null</c> = the batches' own (cached) teacher logits, if any.
    /// </summary>
    public OnlineTeacher? Teacher { get; init; }

    /// <summary>
    /// Self-teaching, as FixMatch trains (Sohn et al. 2020): the model being trained labels each batch itself, its
    /// eval-mode logits under <c>no_grad</c> on the batch's teacher view (<see cref="LabeledBatch.TeacherPixels"/>, the
    /// weak view of a pool image) before the step, in place of any teacher logits. Excludes <see cref="Teacher"/> and
    /// <see cref="Representation"/>. Default false.
    /// </summary>
    public bool SelfTeacher { get; init; }

    /// <summary>
    /// Representation-KD terms (hints, attention transfer, RKD, CRD) added to the objective's loss, tapping the trained
    /// model and <see cref="Teacher"/>; their trained parts join the optimizer and are saved beside each checkpoint
    /// (<c>&lt;name&gt;.representation.bin</c>, named in the record's <c>training.representation</c>) and restored on
    /// resume. The caller owns it. Default <c>null</c>.
    /// </summary>
    public RepresentationDistillation? Representation { get; init; }
}
