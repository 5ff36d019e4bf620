using System.Security.Cryptography;
using KdData.Distillation;
using KdData.Models;

namespace KdData.Records;

/// <summary>
/// Builds the lineage every stage writes into its records (<c>training.lineage</c>, <c>training.export</c>), in one
/// place, so that the stages that share a part (the data part of every KD stage) write it the same way and a
/// stage's own part is named once. The data part comes from <see cref="DistillationInputs"/>
/// (<see cref="DistillationData"/>); a stage puts it into its own lineage with <see cref="WithData"/> or through
/// the stage's builder (<see cref="Distill"/>, <see cref="Qat"/>, <see cref="PruneFineTune"/>, <see cref="Export"/>).
/// The one lineage not built here is a prune step's cut model (step, costs, channels before and after): every member
/// is a figure the cut itself computes, so <c>prune</c> fills them where it cuts, under <see cref="PruneStage"/>.
/// </summary>
public static class Lineages
{
    /// <summary>The <c>distill</c> stage's lineage stage.</summary>
    public const string DistillStage = "distill";

    /// <summary>A prune step's stage: its cut model's record and the lineage of its fine-tune.</summary>
    public const string PruneStage = "prune";

    /// <summary>Quantization-aware training's stage.</summary>
    public const string QatStage = "qat";

    /// <summary>The stage of <c>training.export</c>.</summary>
    public const string ExportStage = "export";

    /// <summary>
    /// What a KD stage's data derives from: dataset, objective, mix, augmentation, shard sets, teachers and teacher
    /// mode, counts and evaluation teacher. One shard set contributes one teacher id, as the records always had it (the
    /// model card lists each id once).
    /// </summary>
    /// <param name="dataset">The dataset location.</param>
    /// <param name="options">The settings the data was loaded with.</param>
    /// <param name="sets">The shard sets read (none online).</param>
    /// <param name="samples">The joined samples (labeled counts).</param>
    /// <param name="pseudoLabeled">Pseudo-labeled images trained on (online: the unlabeled pool).</param>
    /// <param name="evalTeacher">The teacher run on the evaluation split, or null.</param>
    public static LineageRecord DistillationData(string dataset, DistillationInputOptions options, IReadOnlyList<ShardSetInfo> sets,
        DistillationSamples samples, int pseudoLabeled, string? evalTeacher)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(samples);
        var online = options.Online;
        return new LineageRecord
        {
            Dataset = dataset,
            Objective = SettingsSnapshot.Of(options.Settings.ObjectiveOptions),
            Mix = SettingsSnapshot.Of(options.Settings.Mix),
            Augment = options.Augment is null ? null : SettingsSnapshot.Of(options.Augment),
            Shards = SettingsSnapshot.Of(options.Settings.Shards),
            ShardSets = sets,
            Teachers = online is not null ? [online.Id] : options.SelfTeaching ? [] : [.. sets.Select(s => s.TeacherId)],
            TeacherMode = online is not null ? "online" : options.SelfTeaching ? "self" : "offline",
            OnlineTeacher = online is null ? null : new OnlineTeacherLineage { Id = online.Id, Checkpoint = online.Source, Pool = options.OnlinePool },
            LabeledImages = samples.Labeled.Count,
            LabeledWithTeacher = options.InLoopTeacher ? samples.Labeled.Count : samples.LabeledWithTeacher,
            PseudoLabeledImages = pseudoLabeled,
            EvalTeacher = evalTeacher,
        };
    }

    /// <summary>A stage's <paramref name="stage"/> lineage with <paramref name="data"/>'s data members set (replacing any it had).</summary>
    public static LineageRecord WithData(LineageRecord stage, LineageRecord data)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(data);
        return stage with
        {
            Dataset = data.Dataset,
            Objective = data.Objective,
            Mix = data.Mix,
            Augment = data.Augment,
            Shards = data.Shards,
            ShardSets = data.ShardSets,
            Teachers = data.Teachers,
            TeacherMode = data.TeacherMode,
            OnlineTeacher = data.OnlineTeacher,
            LabeledImages = data.LabeledImages,
            LabeledWithTeacher = data.LabeledWithTeacher,
            PseudoLabeledImages = data.PseudoLabeledImages,
            EvalTeacher = data.EvalTeacher,
        };
    }

    /// <summary>The <c>distill</c> stage's lineage: its data and the representation-KD terms it enabled.</summary>
    public static LineageRecord Distill(LineageRecord data, IReadOnlyList<string> representation) =>
        WithData(new LineageRecord { Stage = DistillStage }, data) with { Representation = representation };

    /// <summary>QAT's lineage: its data, the checkpoint it trains and the ranges it started from.</summary>
    /// <param name="data">The data part.</param>
    /// <param name="parent">The quantized checkpoint.</param>
    /// <param name="initialRanges">The calibration method of the starting ranges.</param>
    /// <param name="rangeMomentum">Momentum of the ranges' moving average.</param>
    public static LineageRecord Qat(LineageRecord data, ParentCheckpoint parent, string initialRanges, double rangeMomentum) =>
        WithData(new LineageRecord
        {
            Stage = QatStage,
            Parent = parent,
            InitialRanges = initialRanges,
            RangeMomentum = rangeMomentum,
        }, data);

    /// <summary>
    /// The lineage of a prune step's KD fine-tune: the cut model's own lineage (step, costs, channels) with the data
    /// part, and the cut model (<paramref name="startPath"/>, its weights' SHA-256) as parent.
    /// </summary>
    /// <exception cref="InvalidDataException">The cut model's record has no lineage (it was not written by <c>prune</c>).</exception>
    public static LineageRecord PruneFineTune(LineageRecord data, string startPath, CheckpointRecord start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var cut = start.Training.Lineage
            ?? throw new InvalidDataException($"'{startPath}' has no 'training.lineage'; it was not written by the prune command.");
        return WithData(cut, data) with
        {
            Parent = new ParentCheckpoint { Path = startPath },
            ParentSha256 = start.WeightsSha256,
        };
    }

    /// <summary>
    /// <c>training.export</c>: which checkpoint the exported weights are (its path and weights' SHA-256) and the ONNX
    /// file made from them, so a deployed model can be traced back to its run.
    /// </summary>
    /// <param name="parent">Full path of the exported checkpoint record.</param>
    /// <param name="parentWeightsSha256">SHA-256 of its weights.</param>
    /// <param name="onnx">The ONNX model's bytes, as written to <see cref="ArtifactFiles.Onnx"/>.</param>
    /// <param name="opset">Its default-domain opset.</param>
    public static CheckpointExportRecord Export(string parent, string? parentWeightsSha256, byte[] onnx, long opset) => new()
    {
        Stage = ExportStage,
        Parent = parent,
        ParentWeightsSha256 = parentWeightsSha256,
        Onnx = ArtifactFiles.Onnx,
        OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnx)),
        Opset = opset,
    };
}
