using System.ComponentModel.DataAnnotations;
using KdData.Models;

namespace KdData.Trainer;

/// <summary>
/// The <c>distill</c> stage, bound from <c>Trainer:Distill</c> (the training loop's own settings — epochs, batch size,
/// optimizer, learning rate, warm-up, weight decay, seed — are bound from the same section into
/// <see cref="Training.TrainingLoopOptions"/>).
/// </summary>
public sealed class DistillOptions
{
    public const string SectionName = "Trainer:Distill";

    /// <summary>Local folder for the student's checkpoints (best, last) and metrics.jsonl. Default <c>out/student</c>.</summary>
    [Required]
    public string Output { get; set; } = "out/student";

    /// <summary>Student architecture (see <see cref="ModelZoo"/>). Default: <c>convnet</c> of width 16 (~24k parameters).</summary>
    [Required]
    public ModelSpec Model { get; set; } = new() { Name = ModelFamilies.ConvNet, Width = 16 };

    /// <summary>
    /// Teacher checkpoint used only to measure teacher-student KL and top-1 agreement on the evaluation split each
    /// epoch (training never runs it). Default <c>null</c> = the checkpoint the shards' footer names, when it is
    /// reachable and its weights match the shards' teacher id; <c>none</c> turns the measurement off.
    /// </summary>
    public string? EvalTeacher { get; set; }

    /// <summary>
    /// Online distillation: the teacher checkpoint record (path or location URL) to run on every training batch,
    /// frozen and in eval mode on the student's device, on exactly the student's augmented input; the KD target is
    /// its full logits. Shards are not read: the student trains on the dataset's labeled train split (plus the pool
    /// when <see cref="OnlinePool"/>). <c>self</c>: self-teaching as FixMatch trains, the student labels each batch
    /// itself (eval mode, before its step; with <c>Trainer:Distill:Augment:StrongPool</c> on a pool image's weak view).
    /// Default <c>null</c> = offline distillation from cached soft targets.
    /// </summary>
    public string? Teacher { get; set; }

    /// <summary>The value of <see cref="Teacher"/> that asks for self-teaching.</summary>
    public const string SelfTeacher = "self";

    /// <summary>True when <see cref="Teacher"/> is <c>self</c> (any case).</summary>
    public bool SelfTeaching => string.Equals(Teacher, SelfTeacher, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Online only: also train on the dataset's unlabeled pool (every image under <c>unlabeled/</c>, no label, KD term
    /// only), mixed into batches like the offline pool (<c>Trainer:Distill:Mix:UnlabeledRatio</c>). Default false:
    /// the labeled split alone (the teacher then adds soft targets on the student's augmented views of it).
    /// </summary>
    public bool OnlinePool { get; set; }
}
