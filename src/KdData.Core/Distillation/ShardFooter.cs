using System.Globalization;
using System.Text.Json;
using KdData.Hosting;

namespace KdData.Distillation;

/// <summary>
/// The Labeler's footer metadata of one shard (<c>kddata.teacher</c>, <c>kddata.preprocessing</c>,
/// <c>kddata.input</c>, <c>kddata.top_k</c>), parsed. See <c>LabelingRun</c> for the writing side.
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
    public const string TeacherKey = "kddata.teacher";
    public const string PreprocessingKey = "kddata.preprocessing";
    public const string InputKey = "kddata.input";
    public const string TopKKey = "kddata.top_k";

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
