using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Models;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>Reads what the trainer wrote, independently of the trainer's own parsing.</summary>
internal static class TrainingFiles
{
    public static List<JsonElement> MetricsLines(string directory) =>
        [.. File.ReadAllLines(Path.Combine(directory, "metrics.jsonl"))
            .Where(l => l.Length > 0)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())];

    /// <summary>A metrics.jsonl value required to be a finite number: a diverged epoch writes NaN as the string "NaN", which fails here.</summary>
    public static double Finite(JsonElement line, string name)
    {
        var value = line.GetProperty(name);
        Assert.True(value.ValueKind == JsonValueKind.Number, $"{name} is {value}, not a finite number");
        return value.GetDouble();
    }

    public static JsonNode Record(string directory, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(directory, name + ".json")))!;

    /// <summary>Largest absolute difference between any two corresponding weights or buffers of two saved checkpoints.</summary>
    public static double MaxWeightDifference(string directoryA, string directoryB, string name)
    {
        using var a = Load(directoryA, name);
        using var b = Load(directoryB, name);
        using var scope = NewDisposeScope();
        var other = b.Model.state_dict();
        return a.Model.state_dict().Max(kv => (kv.Value.to_type(ScalarType.Float64) - other[kv.Key].to_type(ScalarType.Float64)).abs().max().item<double>());
    }

    private static Checkpoint Load(string directory, string name) =>
        CheckpointSerializer.Decode(File.ReadAllBytes(Path.Combine(directory, name + ".safetensors")), File.ReadAllBytes(Path.Combine(directory, name + ".json")));
}
