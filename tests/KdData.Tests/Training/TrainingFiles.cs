using System.Text.Json;
using System.Text.Json.Nodes;

namespace KdData.Tests.Training;

/// <summary>Reads what the trainer wrote, independently of the trainer's own parsing.</summary>
internal static class TrainingFiles
{
    public static List<JsonElement> MetricsLines(string directory) =>
        [.. File.ReadAllLines(Path.Combine(directory, "metrics.jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    public static JsonNode Record(string directory, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(directory, name + ".json")))!;
}
