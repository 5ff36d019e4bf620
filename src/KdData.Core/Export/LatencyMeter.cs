using System.Diagnostics;

namespace KdData.Export;

/// <summary>
/// Times a synchronous call: <c>warmup</c> untimed calls, then <c>iterations</c> timed ones, each measured on its
/// own with <see cref="Stopwatch"/>; percentiles by nearest rank over the sorted times (so P50 &lt;= P95 &lt;= P99
/// always holds). The caller fixes the thread count of whatever it times and reports it.
/// </summary>
public static class LatencyMeter
{
    public static LatencyStatistics Measure(Action call, int batch, int warmup, int iterations)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        for (var i = 0; i < warmup; i++)
        {
            call();
        }

        var times = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            call();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return Summarize(times, batch, warmup);
    }

    /// <summary>Statistics of already measured per-call times (milliseconds).</summary>
    public static LatencyStatistics Summarize(IReadOnlyList<double> milliseconds, int batch, int warmup)
    {
        ArgumentNullException.ThrowIfNull(milliseconds);
        if (milliseconds.Count == 0)
        {
            throw new ArgumentException("At least one time is needed.", nameof(milliseconds));
        }
        var sorted = milliseconds.Order().ToArray();
        var total = sorted.Sum();
        return new LatencyStatistics
        {
            Batch = batch,
            Warmup = warmup,
            Iterations = sorted.Length,
            P50Ms = NearestRank(sorted, 0.50),
            P95Ms = NearestRank(sorted, 0.95),
            P99Ms = NearestRank(sorted, 0.99),
            MeanMs = total / sorted.Length,
            ImagesPerSecond = total > 0 ? batch * sorted.Length / (total / 1000.0) : double.PositiveInfinity,
        };
    }

    private static double NearestRank(double[] sorted, double p)
    {
        var rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }
}
