using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>The machine a result was measured on (figures mean little without it).</summary>
internal sealed record MachineDescription
{
    [JsonPropertyName("logical_cores")]
    public int LogicalCores { get; init; }

    [JsonPropertyName("cpu")]
    public string Cpu { get; init; } = "unknown";

    [JsonPropertyName("memory_gib")]
    public double MemoryGiB { get; init; }

    [JsonPropertyName("gpu")]
    public bool Gpu { get; init; }

    [JsonPropertyName("os")]
    public string Os { get; init; } = string.Empty;

    [JsonPropertyName("runtime")]
    public string Runtime { get; init; } = string.Empty;

    [JsonPropertyName("torch_threads")]
    public int TorchThreads { get; init; }

    public static MachineDescription Current() => new()
    {
        LogicalCores = Environment.ProcessorCount,
        Cpu = CpuModel(),
        MemoryGiB = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), 1),
        Gpu = cuda.is_available(),
        Os = RuntimeInformation.OSDescription,
        Runtime = RuntimeInformation.FrameworkDescription,
        TorchThreads = get_num_threads(),
    };

    /// <summary>The 1-minute load average (0 where /proc/loadavg is unavailable).</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    public override string ToString() =>
        $"{LogicalCores} logical cores ({Cpu}), {MemoryGiB} GiB RAM, {(Gpu ? "CUDA GPU" : "no GPU")}, {Os}, {Runtime}";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
