using System.Text.Json;
using System.Text.Json.Serialization;
using KdData.Export;
using KdData.Models;

namespace KdData.Records;

/// <summary>
/// System.Text.Json metadata for the run records, generated at build time: the same snake_case layout the records have
/// always had (<c>num_classes</c>, <c>weights_sha256</c>, ...), unset members left out, NaN and infinities allowed (a
/// diverged run reports them and must stay savable), comments and trailing commas accepted in records written by
/// hand. Dictionary keys (metric names, tensor names, file names) are written as they are. A record is read through
/// the same types it is written with, so a field resume or a later stage depends on is checked when the file is
/// parsed, not where it is used.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters = [typeof(WeightsFormatJsonConverter)])]
[JsonSerializable(typeof(CheckpointRecord))]
[JsonSerializable(typeof(LineageRecord))]
[JsonSerializable(typeof(ParentCheckpoint))]
[JsonSerializable(typeof(TrainingOptionsRecord))]
[JsonSerializable(typeof(QuantizationReport))]
[JsonSerializable(typeof(ExportReport))]
public sealed partial class RecordJsonContext : JsonSerializerContext
{
}
