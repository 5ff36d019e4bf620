using System.Diagnostics;
using System.Globalization;

namespace KdData.Export;

/// <summary>
/// Peak resident memory of this process, to report what serving a model costs. On Linux the kernel's high-water mark
/// (<c>VmHWM</c> in <c>/proc/self/status</c>) can be reset (writing 5 to <c>/proc/self/clear_refs</c>), so a peak can
/// be taken over one phase; elsewhere the lifetime peak working set is all there is.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Resets the peak to the current resident size where the OS allows it; true when it did.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/clear_refs"))
            {
                return false;
            }
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Peak resident bytes since the last successful <see cref="TryResetPeak"/> (or since start).</summary>
    public static long PeakResidentBytes()
    {
        if (OperatingSystem.IsLinux() && File.Exists("/proc/self/status"))
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    var kb = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }
}
