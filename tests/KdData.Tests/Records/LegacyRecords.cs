using System.Text.Json.Nodes;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Records;

/// <summary>The records in <c>Fixtures/LegacyRecords</c>, written by the build before the records had types (see its README).</summary>
internal static class LegacyRecords
{
    public static readonly string[] Checkpoints =
    [
        "distill-online-last.json", "distill-kd-last.json", "prune-start.json", "prune-last.json", "qat-checkpoint.json", "qat-loop-last.json", "export-model.json",
    ];

    public static string Path(string name) => System.IO.Path.Combine(LabelerSamples.RepoRoot, "tests", "KdData.Tests", "Fixtures", "LegacyRecords", name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public static JsonObject Json(string name) => JsonNode.Parse(File.ReadAllText(Path(name)))!.AsObject();

    /// <summary>
    /// <paramref name="node"/> without null members and without <c>format_version</c> below the top level: what a legacy
    /// record and its rewrite through the types must agree on (the types leave unset members out, and stamp the lineage's
    /// version, which legacy records did not carry).
    /// </summary>
    public static JsonNode? Comparable(JsonNode? node, bool top = true)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (value is null || (!top && key == "format_version"))
                    {
                        continue;
                    }
                    copy[key] = Comparable(value, top: false);
                }
                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(v => Comparable(v, top: false))]);
            default:
                return node?.DeepClone();
        }
    }
}
