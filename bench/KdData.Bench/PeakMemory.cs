using System.Globalization;

namespace KdData.Bench;

/// <summary>Peak resident set size (VmHWM) from Linux's <c>/proc/&lt;pid&gt;/status</c>.</summary>
internal static class PeakMemory
{
    /// <summary>VmHWM of <paramref name="pid"/> (default: this process) in KiB; 0 where /proc is unavailable or the process is gone.</summary>
    public static long ReadVmHwmKiB(int? pid = null)
    {
        var path = pid is { } id ? $"/proc/{id.ToString(CultureInfo.InvariantCulture)}/status" : "/proc/self/status";
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    // "VmHWM:    123456 kB"
                    var number = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(number, NumberStyles.None, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or the process has exited.
        }

        return 0;
    }
}
