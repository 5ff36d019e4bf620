using System.Globalization;
using System.Text.Json;
using KdData.Hosting;
using KdData.Models;

namespace KdData.SoftTargets;

/// <summary>
/// The key-value metadata in every soft-target shard's Parquet footer, part of the soft-target contract: which teacher
/// made the targets, how it saw the images (preprocessing, views), where the keys are relative to, and how rows were
/// filtered. The Labeler builds one and writes <see cref="ToMetadata"/>; readers <see cref="Parse"/> it back (the
/// positional fields are what readers need; the init-only ones are written for people and other tools).
/// </summary>
internal sealed record ShardFooter(
    string TeacherId,
    string? WeightsSha256,
    string? TeacherSource,
    IReadOnlyList<string> Classes,
    int Size,
    int Channels,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std,
    string? ResizeMode,
    int ViewsPerImage,
    int TopK,
    string? Input)
{
    public const string LabelerVersionKey = "kddata.labeler_version";
    public const string TeacherKey = "kddata.teacher";
    public const string PreprocessingKey = "kddata.preprocessing";
    public const string InputKey = "kddata.input";
    public const string TemperatureKey = "kddata.temperature";
    public const string TopKKey = "kddata.top_k";
    public const string ThresholdsKey = "kddata.thresholds";
    public const string PartitionKey = "kddata.partition";

    /// <summary>Version of the Labeler that wrote the shard.</summary>
    public string LabelerVersion { get; init; } = "1";

    /// <summary>The teacher's architecture, as its checkpoint records it.</summary>
    public ModelSpec? Architecture { get; init; }

    /// <summary>Seed of the views' random crops.</summary>
    public ulong ViewSeed { get; init; }

    /// <summary>Smallest area fraction of a random view.</summary>
    public double ViewScaleMin { get; init; }

    /// <summary>The confidence filter: overall minimum, per-class thresholds by index, per-class caps by name.</summary>
    public (double MinConfidence, IReadOnlyList<float> PerClass, IReadOnlyDictionary<string, int> Caps)? Thresholds { get; init; }

    /// <summary>Which partition of how many wrote the shard.</summary>
    public (int Index, int Count)? Partition { get; init; }

    /// <summary>The footer as written: one JSON or plain value per key; the logits are at temperature 1.</summary>
    public Dictionary<string, string> ToMetadata()
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [LabelerVersionKey] = LabelerVersion,
            [TeacherKey] = JsonSerializer.Serialize(new
            {
                id = TeacherId,
                architecture = Architecture,
                weights_sha256 = WeightsSha256,
                classes = Classes,
                source = TeacherSource,
            }),
            [PreprocessingKey] = JsonSerializer.Serialize(new
            {
                size = Size,
                channels = Channels,
                mean = Mean,
                std = Std,
                resize_mode = ResizeMode,
                views_per_image = ViewsPerImage,
                view_seed = ViewSeed,
                view_scale_min = ViewScaleMin,
            }),
            [TemperatureKey] = "1",
            [TopKKey] = TopK.ToString(CultureInfo.InvariantCulture),
        };

        // Where the keys are relative to (no credentials), so a trainer can fetch the images the teacher saw.
        if (Input is not null)
        {
            metadata[InputKey] = Input;
        }

        if (Thresholds is { } thresholds)
        {
            metadata[ThresholdsKey] = JsonSerializer.Serialize(new { min_confidence = thresholds.MinConfidence, per_class = thresholds.PerClass, caps = thresholds.Caps });
        }

        if (Partition is { } partition)
        {
            metadata[PartitionKey] = string.Create(CultureInfo.InvariantCulture, $"{partition.Index}/{partition.Count}");
        }

        return metadata;
    }

    /// <summary>Parses the footer of a soft-target shard; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="InvalidInputException">A key is missing or is not the JSON the Labeler writes.</exception>
    public static ShardFooter Parse(IReadOnlyDictionary<string, string> metadata, string file)
    {
        try
        {
            using var teacher = JsonDocument.Parse(Required(metadata, TeacherKey, file));
            using var preprocessing = JsonDocument.Parse(Required(metadata, PreprocessingKey, file));
            var t = teacher.RootElement;
            var p = preprocessing.RootElement;
            var topK = metadata.TryGetValue(TopKKey, out var k) && int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
            return new ShardFooter(
                t.GetProperty("id").GetString() ?? throw new InvalidDataException("teacher id is null"),
                OptionalString(t, "weights_sha256"),
                OptionalString(t, "source"),
                [.. t.GetProperty("classes").EnumerateArray().Select(c => c.GetString() ?? throw new InvalidDataException("a class name is null"))],
                p.GetProperty("size").GetInt32(),
                p.GetProperty("channels").GetInt32(),
                [.. p.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle())],
                [.. p.GetProperty("std").EnumerateArray().Select(v => v.GetSingle())],
                OptionalString(p, "resize_mode"),
                p.TryGetProperty("views_per_image", out var views) && views.ValueKind == JsonValueKind.Number ? views.GetInt32() : 1,
                topK,
                metadata.GetValueOrDefault(InputKey));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidInputException(
                $"Shard '{file}' has footer metadata the Labeler did not write ({TeacherKey} / {PreprocessingKey}): {e.Message}", e);
        }
    }

    private static string Required(IReadOnlyDictionary<string, string> metadata, string key, string file) =>
        metadata.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value
            : throw new InvalidInputException($"Shard '{file}' has no '{key}' footer metadata; it was not written by the Labeler.");

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
