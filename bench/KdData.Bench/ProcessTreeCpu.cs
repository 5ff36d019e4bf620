using System.Globalization;
using System.Runtime.InteropServices;

namespace KdData.Bench;

/// <summary>
/// CPU time of a process and all its descendants, read from Linux <c>/proc/&lt;pid&gt;/stat</c> (user + system time,
/// plus the children it has waited for). Azurite is one Node.js process today, but its CPU must be charged to it whether
/// or not a version forks workers, and <see cref="System.Diagnostics.Process.TotalProcessorTime"/> counts the one
/// process only.
/// </summary>
internal static partial class ProcessTreeCpu
{
    private const int ScClockTicks = 2;

    private static readonly Lazy<double> TicksPerSecond = new(() =>
    {
        var ticks = OperatingSystem.IsLinux() ? SysConf(ScClockTicks) : -1;
        return ticks > 0 ? ticks : 100;
    });

    /// <summary>CPU seconds used so far by <paramref name="pid"/> and its live descendants (and the children they reaped); 0 when it is gone.</summary>
    public static double Seconds(int pid)
    {
        var stats = ReadAll();
        if (!stats.ContainsKey(pid))
        {
            return 0;
        }

        // Descendants: every process whose parent chain reaches pid.
        var ticks = 0L;
        foreach (var (candidate, stat) in stats)
        {
            for (var p = candidate; stats.TryGetValue(p, out var s); p = s.Parent)
            {
                if (p == pid)
                {
                    ticks += stat.Ticks;
                    break;
                }

                if (s.Parent <= 1 || s.Parent == p)
                {
                    break;
                }
            }
        }

        return ticks / TicksPerSecond.Value;
    }

    private static Dictionary<int, (int Parent, long Ticks)> ReadAll()
    {
        var stats = new Dictionary<int, (int Parent, long Ticks)>();
        if (!Directory.Exists("/proc"))
        {
            return stats;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ... utime stime cutime cstime ...": comm may hold spaces and ')', so split after the last ')'.
                var text = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                // fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14-17.
                long Field(int number) => long.Parse(fields[number - 3], NumberStyles.Integer, CultureInfo.InvariantCulture);
                stats[pid] = ((int)Field(4), Field(14) + Field(15) + Field(16) + Field(17));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // The process ended while the folder was read.
            }
        }

        return stats;
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
