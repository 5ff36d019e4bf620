using KdData.Records;

namespace KdData.Models;

/// <summary>
/// The JSON record stored beside a checkpoint's weights (<c>&lt;name&gt;.json</c> next to
/// <c>&lt;name&gt;.safetensors</c>): what the weights are and how to use them. Serialized with snake_case
/// property names (<c>num_classes</c>, <c>weights_sha256</c>, ...) so it can also be written from Python for a
/// teacher fine-tuned in PyTorch. <see cref="WeightsSha256"/> is filled in when the checkpoint is encoded. Written and
/// read through <see cref="RecordJsonContext"/>, so the <see cref="Training"/> members later stages depend on are typed.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record CheckpointRecord
{
    /// <summary>The record layout version this code writes and reads.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Record layout version; stamped with <see cref="CurrentFormatVersion"/> when encoded. Absent = <see cref="RecordFormat.Legacy"/>.</summary>
    public int FormatVersion { get; set; } = RecordFormat.Legacy;

    /// <summary>Architecture and its settings; the model is rebuilt from this on load. Required.</summary>
    public required ModelSpec Architecture { get; init; }

    /// <summary>Class names in logit order; empty or exactly <see cref="ModelSpec.NumClasses"/> names. Default empty.</summary>
    public IReadOnlyList<string> Classes { get; set; } = [];

    /// <summary>Input preprocessing the model was trained with. Default <c>null</c> (unknown).</summary>
    public PreprocessingRecord? Preprocessing { get; init; }

    /// <summary>How the weights were made: options, run state, lineage, stage parts (<see cref="TrainingRecord"/>). Default empty.</summary>
    public TrainingRecord Training { get; set; } = new();

    /// <summary>Evaluation metrics by name (e.g. <c>val_accuracy</c>). Default empty.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; set; } = new Dictionary<string, double>();

    /// <summary>Encoding of the weights file. Default <see cref="WeightsFormat.Safetensors"/>.</summary>
    public WeightsFormat WeightsFormat { get; init; } = WeightsFormat.Safetensors;

    /// <summary>Lower-case hex SHA-256 of the weights file; set on encode, verified on load. Default <c>null</c>.</summary>
    public string? WeightsSha256 { get; init; }
}
