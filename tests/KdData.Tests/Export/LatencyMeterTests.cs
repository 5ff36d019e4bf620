using KdData.Export;

namespace KdData.Tests.Export;

public sealed class LatencyMeterTests
{
    [Fact]
    public void Summarize_HundredTimes_NearestRankPercentilesMeanAndThroughput()
    {
        // 1..100 ms: nearest rank gives P50 = 50, P95 = 95, P99 = 99; mean 50.5; 100 calls of 4 images in 5.05 s.
        var times = Enumerable.Range(1, 100).Select(i => (double)i).Reverse().ToArray();

        var stats = LatencyMeter.Summarize(times, batch: 4, warmup: 3);

        Assert.Equal(50, stats.P50Ms);
        Assert.Equal(95, stats.P95Ms);
        Assert.Equal(99, stats.P99Ms);
        Assert.Equal(50.5, stats.MeanMs, 12);
        Assert.Equal(400 / 5.05, stats.ImagesPerSecond, 9);
        Assert.Equal(100, stats.Iterations);
        Assert.Equal(3, stats.Warmup);
    }

    [Fact]
    public void Measure_CountsCalls_WarmupUntimedAndPercentilesOrdered()
    {
        var calls = 0;

        var stats = LatencyMeter.Measure(() => calls++, batch: 1, warmup: 2, iterations: 7);

        Assert.Equal(9, calls);
        Assert.Equal(7, stats.Iterations);
        Assert.True(stats.P50Ms <= stats.P95Ms && stats.P95Ms <= stats.P99Ms);
    }
}
