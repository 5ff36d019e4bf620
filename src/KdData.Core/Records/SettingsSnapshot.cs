using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Augmentation;
using KdData.Distillation;
using KdData.Objectives;
using KdData.Training;

namespace KdData.Records;

/// <summary>The settings a record copies, as JSON objects (<see cref="SettingsJsonContext"/>).</summary>
public static class SettingsSnapshot
{
    /// <summary>The training loop's options (<c>training.options</c>).</summary>
    public static JsonObject Of(TrainingLoopOptions options) => ToObject(options, SettingsJsonContext.Default.TrainingLoopOptions);

    /// <summary>The objective and its curriculum (<c>lineage.objective</c>).</summary>
    public static JsonObject Of(ObjectiveOptions options) => ToObject(options, SettingsJsonContext.Default.ObjectiveOptions);

    /// <summary>The labeled / pseudo-labeled batch mix (<c>lineage.mix</c>).</summary>
    public static JsonObject Of(DistillationMixOptions options) => ToObject(options, SettingsJsonContext.Default.DistillationMixOptions);

    /// <summary>MixUp / CutMix / RandAugment (<c>lineage.augment</c>).</summary>
    public static JsonObject Of(DistillationAugmentOptions options) => ToObject(options, SettingsJsonContext.Default.DistillationAugmentOptions);

    /// <summary>Which shards were read and how they were filtered (<c>lineage.shards</c>).</summary>
    public static JsonObject Of(ShardSelectionOptions options) => ToObject(options, SettingsJsonContext.Default.ShardSelectionOptions);

    private static JsonObject ToObject<T>(T options, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonSerializer.SerializeToNode(options, type)!.AsObject();
    }
}
