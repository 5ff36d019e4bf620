using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>The CPU as <c>/proc/cpuinfo</c> names it: model, family and whether it has AVX-512F (which kind of machine a result is from).</summary>
internal sealed record CpuInfo
{
    [JsonPropertyName("model")]
    public string Model { get; init; } = "unknown";

    [JsonPropertyName("family")]
    public string Family { get; init; } = "unknown";

    [JsonPropertyName("avx512f")]
    public bool Avx512F { get; init; }

    [JsonPropertyName("logical_cores")]
    public int LogicalCores { get; init; }

    public static CpuInfo Current()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/cpuinfo");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new CpuInfo { LogicalCores = Environment.ProcessorCount };
        }

        // The first processor's entries, as `grep -m1` would find them.
        string? First(string name) => lines
            .Where(l => l.StartsWith(name, StringComparison.Ordinal) && l.AsSpan(name.Length).TrimStart().StartsWith(":"))
            .Select(l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim())
            .FirstOrDefault();
        return new CpuInfo
        {
            Model = First("model name") ?? "unknown",
            Family = First("cpu family") ?? "unknown",
            Avx512F = (First("flags") ?? string.Empty).Split(' ').Contains("avx512f", StringComparer.Ordinal),
            LogicalCores = Environment.ProcessorCount,
        };
    }

    public override string ToString() =>
        $"{Model}, cpu family {Family}, avx512f {(Avx512F ? "yes" : "no")}, {LogicalCores} logical cores";
}
