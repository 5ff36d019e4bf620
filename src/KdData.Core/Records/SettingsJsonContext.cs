using System.Text.Json.Serialization;
using KdData.Augmentation;
using KdData.Distillation;
using KdData.Objectives;
using KdData.Training;

namespace KdData.Records;

/// <summary>
/// System.Text.Json metadata for the settings a record copies verbatim (the training loop's options, the objective,
/// batch mix, augmentation and shard selection): every public property in snake_case, nulls included, as these
/// snapshots have always been written. The snapshots stay open JSON in the records (<see cref="SettingsSnapshot"/>):
/// they say what a run was given, and no code reads them back except the optimizer, which
/// <see cref="TrainingOptionsRecord"/> types.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TrainingLoopOptions))]
[JsonSerializable(typeof(ObjectiveOptions))]
[JsonSerializable(typeof(DistillationMixOptions))]
[JsonSerializable(typeof(DistillationAugmentOptions))]
[JsonSerializable(typeof(ShardSelectionOptions))]
public sealed partial class SettingsJsonContext : JsonSerializerContext
{
}
