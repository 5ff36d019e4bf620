using System.Runtime.InteropServices;

namespace KdData.Bench;

/// <summary>
/// CPU time of the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>): a stage timed on one thread
/// is charged only for its own work, not for Torch or GC threads, and not for time it was descheduled on a shared machine.
/// </summary>
internal static partial class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>Seconds of CPU this thread has used, or wall-clock seconds where the clock is not available.</summary>
    public static double Seconds()
    {
        if (OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTimeId, out var now) == 0)
        {
            return now.Seconds + (now.Nanoseconds / 1e9);
        }

        return System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
