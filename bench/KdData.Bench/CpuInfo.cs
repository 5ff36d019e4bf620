using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>The CPU as <c>/proc/cpuinfo</c> names it: model, family and its vector extensions (which kind of machine a result is from).</summary>
internal sealed record CpuInfo
{
    [JsonPropertyName("model")]
    public string Model { get; init; } = "unknown";

    [JsonPropertyName("family")]
    public string Family { get; init; } = "unknown";

    [JsonPropertyName("avx512f")]
    public bool Avx512F { get; init; }

    [JsonPropertyName("avx2")]
    public bool Avx2 { get; init; }

    /// <summary>AVX-512 VNNI (<c>avx512_vnni</c>): int8 dot products in 512-bit registers.</summary>
    [JsonPropertyName("avx512_vnni")]
    public bool Avx512Vnni { get; init; }

    /// <summary>AVX-VNNI (<c>avx_vnni</c>): the same int8 dot products in 256-bit registers.</summary>
    [JsonPropertyName("avx_vnni")]
    public bool AvxVnni { get; init; }

    [JsonPropertyName("logical_cores")]
    public int LogicalCores { get; init; }

    /// <summary>
    /// The widest vector level, e.g. <c>AVX-512 + VNNI</c>, <c>AVX2</c>: kernels (PNG decode, Zstd, LibTorch) choose their
    /// code by it, so figures from an AVX2-only machine and from an AVX-512 one are not interchangeable.
    /// </summary>
    [JsonIgnore]
    public string VectorLevel
    {
        get
        {
            var width = Avx512F ? "AVX-512" : Avx2 ? "AVX2" : "no AVX2";
            var vnni = new[] { (Avx512Vnni, "avx512_vnni"), (AvxVnni, "avx_vnni") }.Where(v => v.Item1).Select(v => v.Item2).ToList();
            return vnni.Count > 0 ? $"{width} + VNNI ({string.Join(", ", vnni)})" : $"{width}, no VNNI";
        }
    }

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
        var flags = (First("flags") ?? string.Empty).Split(' ').ToHashSet(StringComparer.Ordinal);
        return new CpuInfo
        {
            Model = First("model name") ?? "unknown",
            Family = First("cpu family") ?? "unknown",
            Avx512F = flags.Contains("avx512f"),
            Avx2 = flags.Contains("avx2"),
            Avx512Vnni = flags.Contains("avx512_vnni"),
            AvxVnni = flags.Contains("avx_vnni"),
            LogicalCores = Environment.ProcessorCount,
        };
    }

    public override string ToString() =>
        $"{Model}, cpu family {Family}, avx512f {(Avx512F ? "yes" : "no")}, {LogicalCores} logical cores";
}
