using System.Text.Json.Serialization;

namespace KdData.Labeling;

/// <summary>What one run did; written to <c>teacher=&lt;id&gt;/_runs/</c> and printed at the end.</summary>
public sealed record LabelingSummary
{
    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    [JsonPropertyName("teacher_source")]
    public required string TeacherSource { get; init; }

    [JsonPropertyName("input")]
    public required string Input { get; init; }

    [JsonPropertyName("output")]
    public required string Output { get; init; }

    [JsonPropertyName("partition")]
    public int Partition { get; init; }

    [JsonPropertyName("partition_count")]
    public int PartitionCount { get; init; }

    [JsonPropertyName("outcome")]
    [JsonConverter(typeof(JsonStringEnumConverter<LabelingOutcome>))]
    public LabelingOutcome Outcome { get; init; }

    [JsonPropertyName("started_at")]
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>Keys listed in this partition (including those already labeled).</summary>
    [JsonPropertyName("listed")]
    public long Listed { get; init; }

    /// <summary>Keys skipped because this teacher already labeled them at the same ETag.</summary>
    [JsonPropertyName("already_labeled")]
    public long AlreadyLabeled { get; init; }

    /// <summary>Images committed by this run (labeled or recorded as errors).</summary>
    [JsonPropertyName("images")]
    public long Images { get; init; }

    [JsonPropertyName("accepted_views")]
    public long AcceptedViews { get; init; }

    [JsonPropertyName("rejected_views")]
    public long RejectedViews { get; init; }

    [JsonPropertyName("errors")]
    public long Errors { get; init; }

    [JsonPropertyName("errors_by_reason")]
    public IReadOnlyDictionary<string, long> ErrorsByReason { get; init; } = new Dictionary<string, long>();

    [JsonPropertyName("commits")]
    public int Commits { get; init; }

    [JsonPropertyName("seconds")]
    public double Seconds { get; init; }

    /// <summary>Time spent in teacher forward passes.</summary>
    [JsonPropertyName("inference_seconds")]
    public double InferenceSeconds { get; init; }

    [JsonPropertyName("images_per_second")]
    public double ImagesPerSecond { get; init; }

    [JsonPropertyName("shard_bytes")]
    public long ShardBytes { get; init; }
}
