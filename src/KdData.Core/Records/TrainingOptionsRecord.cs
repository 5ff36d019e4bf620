using System.Text.Json;
using System.Text.Json.Serialization;
using KdData.Training;

namespace KdData.Records;

/// <summary>
/// <c>training.options</c>: the training loop's options as the run had them. Only <see cref="Optimizer"/> is read back
/// (its state file fits one optimizer, so a resume with another stops); the rest is a snapshot of
/// <see cref="TrainingLoopOptions"/> kept as JSON, so a new option needs no change here.
/// </summary>
public sealed record TrainingOptionsRecord
{
    /// <summary><c>adamw</c> or <c>sgd</c>.</summary>
    public string? Optimizer { get; init; }

    /// <summary>Every other option (<c>epochs</c>, <c>batch_size</c>, <c>learning_rate</c>, <c>seed</c>, ...); settable because System.Text.Json fills it after construction (see <see cref="TrainingRecord.Other"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Settings { get; set; }

    /// <summary>The record of <paramref name="options"/>.</summary>
    public static TrainingOptionsRecord From(TrainingLoopOptions options) =>
        SettingsSnapshot.Of(options).Deserialize(RecordJsonContext.Default.TrainingOptionsRecord)!;
}
