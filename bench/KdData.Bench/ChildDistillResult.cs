using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>Peak memory of one real <c>kddata-trainer distill</c> run in its own process.</summary>
internal sealed record ChildDistillResult
{
    /// <summary>Pool images labeled for this run (the shard set's rows).</summary>
    [JsonPropertyName("pool_images")]
    public int PoolImages { get; init; }

    /// <summary>Labeled images the child reported distilling from.</summary>
    [JsonPropertyName("labeled_rows")]
    public int? LabeledRows { get; init; }

    /// <summary>Pseudo-labeled rows the child reported distilling from (after its shard selection).</summary>
    [JsonPropertyName("pseudo_rows")]
    public int? PseudoRows { get; init; }

    /// <summary>Highest VmHWM seen while polling the child (KiB).</summary>
    [JsonPropertyName("peak_rss_kib")]
    public long PeakRssKiB { get; init; }

    /// <summary>VmHWM when training started (KiB): the peak of reading the shard sets and building the samples and model.</summary>
    [JsonPropertyName("load_peak_rss_kib")]
    public long LoadPeakRssKiB { get; init; }

    /// <summary>Seconds from start to exit.</summary>
    [JsonPropertyName("seconds")]
    public double Seconds { get; init; }

    /// <summary>Seconds from the start of training (data loaded) to the stop signal or the end of the epoch.</summary>
    [JsonPropertyName("training_seconds")]
    public double TrainingSeconds { get; init; }

    /// <summary>0 (the epoch finished) or 3 (stopped by SIGTERM after the set time, progress saved).</summary>
    [JsonPropertyName("exit_code")]
    public int ExitCode { get; init; }
}
