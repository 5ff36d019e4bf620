using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using KdData.Distillation;

namespace KdData.Records;

/// <summary>
/// <c>training.lineage</c> of a checkpoint record, copied into <c>export.json</c> and the model card: what a run
/// derives from, so a model can be traced to its teacher, data and settings. One flat object for every stage, as it
/// has always been written: the stage's own part (prune: step, parent and costs; QAT: parent and ranges; distill:
/// representation terms) beside the data part every KD stage shares (dataset, objective, shard sets, teachers,
/// counts). A member a stage does not write is absent. The settings snapshots stay open JSON (see
/// <see cref="SettingsSnapshot"/>); members this build does not know are kept in <see cref="Other"/>.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record LineageRecord
{
    /// <summary>The layout version this build writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Layout version; absent in records written before lineage had a type (= <see cref="RecordFormat.Legacy"/>).</summary>
    public int FormatVersion { get; set; } = RecordFormat.Legacy;

    /// <summary><c>distill</c>, <c>prune</c> or <c>qat</c>.</summary>
    public string? Stage { get; init; }

    /// <summary>Prune: this step (1-based).</summary>
    public int? Step { get; init; }

    /// <summary>Prune: steps of the run.</summary>
    public int? Steps { get; init; }

    /// <summary>The checkpoint this one was made from (prune: the previous step's or the input; QAT: the quantized checkpoint).</summary>
    public ParentCheckpoint? Parent { get; init; }

    /// <summary>Prune: SHA-256 of the parent's weights; a rerun checks it before reusing a step.</summary>
    public string? ParentSha256 { get; init; }

    /// <summary>Prune: channel scoring criterion.</summary>
    public string? Criterion { get; init; }

    /// <summary>Prune: where channels compete (<c>global</c>, <c>layer</c>).</summary>
    public string? Scope { get; init; }

    /// <summary>Prune: the cost cut, <c>macs</c> or <c>parameters</c>.</summary>
    public string? Target { get; init; }

    /// <summary>Prune: share of the input's cost the run aims at.</summary>
    public double? TargetShare { get; init; }

    /// <summary>Prune: this step's cost target.</summary>
    public long? StepTarget { get; init; }

    /// <summary>Prune: the input model's cost.</summary>
    public long? InputCost { get; init; }

    /// <summary>Prune: cost before this step's cut.</summary>
    public long? CostBefore { get; init; }

    /// <summary>Prune: cost after it.</summary>
    public long? CostAfter { get; init; }

    /// <summary>Prune: share of the channels removed.</summary>
    public double? Ratio { get; init; }

    /// <summary>Prune: channels per prunable group before the cut.</summary>
    public IReadOnlyList<int>? ChannelsBefore { get; init; }

    /// <summary>Prune: channels per prunable group after it.</summary>
    public IReadOnlyList<int>? ChannelsAfter { get; init; }

    /// <summary>QAT: calibration method of the ranges training started from.</summary>
    public string? InitialRanges { get; init; }

    /// <summary>QAT: momentum of the ranges' moving average.</summary>
    public double? RangeMomentum { get; init; }

    /// <summary>The dataset location.</summary>
    public string? Dataset { get; init; }

    /// <summary>The objective and curriculum settings.</summary>
    public JsonObject? Objective { get; init; }

    /// <summary>The labeled / pseudo-labeled batch mix settings.</summary>
    public JsonObject? Mix { get; init; }

    /// <summary>MixUp / CutMix / RandAugment settings; absent without augmentation.</summary>
    public JsonObject? Augment { get; init; }

    /// <summary>Shard selection settings (locations, thresholds, caps).</summary>
    public JsonObject? Shards { get; init; }

    /// <summary>The shard sets read, with their teachers.</summary>
    public IReadOnlyList<ShardSetInfo>? ShardSets { get; init; }

    /// <summary>Teacher ids: one per shard set (an id repeats when sets share a teacher), or the online teacher's.</summary>
    public IReadOnlyList<string>? Teachers { get; init; }

    /// <summary><c>offline</c> (cached soft targets) or <c>online</c>.</summary>
    public string? TeacherMode { get; init; }

    /// <summary>The online teacher; absent offline.</summary>
    public OnlineTeacherLineage? OnlineTeacher { get; init; }

    /// <summary>Labeled training images.</summary>
    public int? LabeledImages { get; init; }

    /// <summary>Labeled images with teacher outputs.</summary>
    public int? LabeledWithTeacher { get; init; }

    /// <summary>Pseudo-labeled images (online: the pool the teacher labels).</summary>
    public int? PseudoLabeledImages { get; init; }

    /// <summary>Teacher checkpoint run on the evaluation split; absent when none.</summary>
    public string? EvalTeacher { get; init; }

    /// <summary>Distill: the representation-KD terms enabled.</summary>
    public IReadOnlyList<string>? Representation { get; init; }

    /// <summary>Members this build does not know, kept and written back as they are (settable: System.Text.Json fills it after construction; see <see cref="TrainingRecord.Other"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}
