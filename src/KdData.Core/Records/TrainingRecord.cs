using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.Records;

/// <summary>
/// The <c>training</c> object of a checkpoint record: how the weights were made and, in a training loop's <c>last</c>
/// checkpoint, where the run stands. A resume depends on <see cref="Options"/>' optimizer, <see cref="Epoch"/> and the
/// rest of the run state and on <see cref="Representation"/>'s file, so they are typed: a record holding the wrong
/// type there fails when it is parsed, not halfway through a resume. Each stage fills its own part (the training
/// loop: options to optimizer state; prune: stage and lineage; QAT: stage, parent, epochs and ranges; ensemble: stage,
/// members and model cost; export:
/// <see cref="Export"/>), so every member is optional: a record written by hand for a teacher trained elsewhere may
/// have none of them. The checkpoint record's <c>format_version</c> covers this object.
/// </summary>
public sealed record TrainingRecord
{
    /// <summary>The stage that wrote a record outside a training loop: <c>prune</c> (a cut model) or <c>qat</c>.</summary>
    public string? Stage { get; init; }

    /// <summary>The checkpoint a QAT record was trained from.</summary>
    public ParentCheckpoint? Parent { get; init; }

    /// <summary>The checkpoints an <c>ensemble</c> record was built from, in member order (path and weights id).</summary>
    public IReadOnlyList<ParentCheckpoint>? Members { get; init; }

    /// <summary>The training loop's options; a resume needs the same optimizer.</summary>
    public TrainingOptionsRecord? Options { get; init; }

    /// <summary>Name of the objective the loop minimised (<c>kd</c>, <c>ce</c>, ...).</summary>
    public string? Objective { get; init; }

    /// <summary>Size and cost of the trained model.</summary>
    public ModelCostRecord? Model { get; init; }

    /// <summary>What the run derives from: teacher, data, settings, parent.</summary>
    public LineageRecord? Lineage { get; init; }

    /// <summary>Epoch the weights belong to (1-based; 0 before any training). Required to resume.</summary>
    public int? Epoch { get; init; }

    /// <summary>False when the run was interrupted inside <see cref="Epoch"/>. Required to resume.</summary>
    public bool? EpochComplete { get; init; }

    /// <summary>Steps of <see cref="Epoch"/> taken.</summary>
    public int? StepsInEpoch { get; init; }

    /// <summary>Epoch of the best evaluation accuracy so far; 0 when none.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>That accuracy; written when <see cref="BestEpoch"/> is above 0.</summary>
    public double? BestEvalAccuracy { get; init; }

    /// <summary>File name (beside the record) of the optimizer state saved with these weights.</summary>
    public string? OptimizerState { get; init; }

    /// <summary>SHA-256 of <see cref="OptimizerState"/>'s file.</summary>
    public string? OptimizerSha256 { get; init; }

    /// <summary>The representation-KD terms' trained parts saved beside the weights.</summary>
    public RepresentationStateRecord? Representation { get; init; }

    /// <summary>File name (beside the record) of the weights being trained, when the record's own weights are their moving average (<c>EmaDecay</c>); null otherwise.</summary>
    public string? RawWeights { get; init; }

    /// <summary>SHA-256 of <see cref="RawWeights"/>.</summary>
    public string? RawWeightsSha256 { get; init; }

    /// <summary>A self-teaching run's distribution-alignment averages (<c>DistributionAlignment</c> &gt; 0); null otherwise.</summary>
    public DistributionAlignmentRecord? DistributionAlignment { get; init; }

    /// <summary>Epochs a QAT record was trained for.</summary>
    public int? Epochs { get; init; }

    /// <summary>A QAT record's learned activation ranges, [min, max] by tensor name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<float>>? ActivationRanges { get; init; }

    /// <summary>The int8 model a QAT record was exported to (beside it).</summary>
    public string? Int8Model { get; init; }

    /// <summary>What an exported record was exported from.</summary>
    public CheckpointExportRecord? Export { get; init; }

    /// <summary>
    /// Members this build does not know (e.g. of a record written in Python), kept and written back as they are.
    /// Settable because System.Text.Json fills extension data after construction; a dictionary, not a
    /// <c>JsonObject</c>, which System.Text.Json writes as invalid JSON in this place (dotnet/runtime#60806).
    /// </summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Other { get; set; }
}
