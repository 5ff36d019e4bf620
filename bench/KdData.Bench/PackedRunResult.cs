using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>One measured Labeler run of <c>packed</c>: which input, what the run measured, and whether its output is exactly once.</summary>
internal sealed record PackedRunResult
{
    /// <summary>1-based round of the ABAB order.</summary>
    [JsonPropertyName("round")]
    public int Round { get; init; }

    /// <summary><c>loose</c>, <c>parquet</c> or <c>tar</c>.</summary>
    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("input")]
    public required string Input { get; init; }

    [JsonPropertyName("output")]
    public required string Output { get; init; }

    /// <summary>1-minute load average just before the run.</summary>
    [JsonPropertyName("load_average")]
    public double LoadAverage { get; init; }

    /// <summary>What the run measured (its <c>azurite_cpu_seconds</c> is Azurite's process tree).</summary>
    [JsonPropertyName("run")]
    public required EndToEndResult Run { get; init; }

    /// <summary>The committed manifests and shards read back after the run: every image exactly once.</summary>
    [JsonPropertyName("exactly_once")]
    public required InvariantResult ExactlyOnce { get; init; }

    /// <summary>CPU ms per image of the bench process: the Labeler engine and everything it calls (Azure SDK, Parquet.Net, Skia, Torch).</summary>
    [JsonPropertyName("our_cpu_ms_per_image")]
    public double OurCpuMsPerImage => Run.Images > 0 ? Run.BenchCpuSeconds * 1000 / Run.Images : 0;

    /// <summary>CPU ms per image of Azurite's process (and any children), serving the reads and the run's writes.</summary>
    [JsonPropertyName("azurite_cpu_ms_per_image")]
    public double AzuriteCpuMsPerImage => Run.Images > 0 ? (Run.AzuriteCpuSeconds ?? 0) * 1000 / Run.Images : 0;
}
