namespace KdData.Export;

/// <summary>Latency of one engine at one batch size: percentiles of per-call wall time, and the throughput they imply.</summary>
public sealed record LatencyStatistics
{
    /// <summary>Images per call.</summary>
    public required int Batch { get; init; }

    /// <summary>Untimed calls made first (allocator, kernels and caches warm).</summary>
    public required int Warmup { get; init; }

    /// <summary>Timed calls.</summary>
    public required int Iterations { get; init; }

    /// <summary>Median milliseconds per call.</summary>
    public required double P50Ms { get; init; }

    /// <summary>95th percentile milliseconds per call (nearest rank).</summary>
    public required double P95Ms { get; init; }

    /// <summary>99th percentile milliseconds per call (nearest rank).</summary>
    public required double P99Ms { get; init; }

    /// <summary>Mean milliseconds per call.</summary>
    public required double MeanMs { get; init; }

    /// <summary>Images per second over the timed calls (batch x iterations / total time).</summary>
    public required double ImagesPerSecond { get; init; }
}
