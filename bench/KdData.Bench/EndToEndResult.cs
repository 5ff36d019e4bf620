using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>What one end-to-end Labeler run measured.</summary>
internal sealed record EndToEndResult
{
    /// <summary><c>local</c> or <c>azurite</c>.</summary>
    [JsonPropertyName("source")]
    public required string Source { get; init; }

    [JsonPropertyName("images")]
    public long Images { get; init; }

    /// <summary>Wall time of the whole run (lease, listing, pipeline, commits, run summary); the teacher was already loaded.</summary>
    [JsonPropertyName("seconds")]
    public double Seconds { get; init; }

    [JsonPropertyName("images_per_second")]
    public double ImagesPerSecond { get; init; }

    /// <summary>Time inside teacher forward passes during the run.</summary>
    [JsonPropertyName("inference_seconds")]
    public double InferenceSeconds { get; init; }

    /// <summary>Images / inference seconds: the teacher's own speed while the rest of the pipeline shares the cores.</summary>
    [JsonPropertyName("inference_images_per_second")]
    public double InferenceImagesPerSecond { get; init; }

    /// <summary>Inference seconds / wall seconds: how busy the pipeline kept the teacher (1 = the teacher is the bottleneck).</summary>
    [JsonPropertyName("teacher_busy")]
    public double TeacherBusy => Seconds > 0 ? InferenceSeconds / Seconds : 0;

    [JsonPropertyName("shard_bytes")]
    public long ShardBytes { get; init; }

    [JsonPropertyName("shard_bytes_per_image")]
    public double ShardBytesPerImage { get; init; }

    [JsonPropertyName("commits")]
    public int Commits { get; init; }

    /// <summary>CPU seconds the bench process (Labeler engine + Torch) used during the run.</summary>
    [JsonPropertyName("bench_cpu_seconds")]
    public double BenchCpuSeconds { get; init; }

    /// <summary>Managed bytes the bench process allocated per image during the run (all threads).</summary>
    [JsonPropertyName("allocated_bytes_per_image")]
    public double AllocatedBytesPerImage { get; init; }

    /// <summary>Gen-2 garbage collections during the run.</summary>
    [JsonPropertyName("gen2_collections")]
    public int Gen2Collections { get; init; }

    /// <summary>CPU seconds Azurite used during the run (null for the local store).</summary>
    [JsonPropertyName("azurite_cpu_seconds")]
    public double? AzuriteCpuSeconds { get; init; }

    /// <summary>CPU seconds per image of the bench process plus Azurite: the cost with the cores to itself.</summary>
    [JsonPropertyName("cpu_seconds_per_image")]
    public double CpuSecondsPerImage => Images > 0 ? (BenchCpuSeconds + (AzuriteCpuSeconds ?? 0)) / Images : 0;
}
