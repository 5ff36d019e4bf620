using System.Runtime.InteropServices;

namespace KdData.Export;

/// <summary>
/// The machine a latency table was measured on, in words (logical CPUs, the CPU model where Linux names it, the OS):
/// latency figures mean nothing without it.
/// </summary>
public static class MachineDescription
{
    /// <summary>E.g. <c>2 logical CPUs (AMD EPYC 7763 64-Core Processor), Ubuntu 24.04 LTS</c>.</summary>
    public static string Current()
    {
        string? cpu = null;
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        return $"{Environment.ProcessorCount} logical CPUs{(cpu is null ? string.Empty : $" ({cpu})")}, {RuntimeInformation.OSDescription}";
    }
}
