using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>One measured training epoch of <c>distill-loader</c>: the training part only (no evaluation, no checkpoint).</summary>
internal sealed record DistillEpochRun
{
    /// <summary>Real distillation loader from the local store.</summary>
    public const string Loader = "loader";

    /// <summary>The loader's batches, made beforehand and replayed from memory, KD objective.</summary>
    public const string PremadeKd = "premade-kd";

    /// <summary>The same images and batches as plain labeled batches (pool images labeled by the teacher's arg-max), CE objective.</summary>
    public const string PremadeCe = "premade-ce";

    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("round")]
    public int Round { get; init; }

    [JsonPropertyName("images")]
    public long Images { get; init; }

    [JsonPropertyName("batches")]
    public int Batches { get; init; }

    [JsonPropertyName("seconds")]
    public double Seconds { get; init; }

    /// <summary>Process CPU seconds over the epoch: loader threads and Torch together.</summary>
    [JsonPropertyName("cpu_seconds")]
    public double CpuSeconds { get; init; }

    [JsonPropertyName("images_per_second")]
    public double ImagesPerSecond => Seconds > 0 ? Images / Seconds : 0;

    [JsonPropertyName("cpu_ms_per_image")]
    public double CpuMsPerImage => Images > 0 ? CpuSeconds * 1000 / Images : 0;

    /// <summary>1-minute load average right after the epoch.</summary>
    [JsonPropertyName("load_average")]
    public double LoadAverage { get; init; }
}
