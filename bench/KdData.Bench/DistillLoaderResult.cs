using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>Everything one <c>distill-loader</c> run measured; written to <c>out/bench/distill-loader-&lt;timestamp&gt;.json</c>.</summary>
internal sealed record DistillLoaderResult
{
    /// <summary>
    /// Issue 18: the real loader's epoch at most 1.05x the same epoch from batches made beforehand, on every epoch, so
    /// each round is checked on its own (<see cref="LoaderRounds"/>), not only the mean of the rounds.
    /// </summary>
    public const double LoaderGoal = 1.05;
    public const double KdGoal = 1.05;
    public const double RssGoal = 1.15;

    [JsonPropertyName("started_at")]
    public DateTimeOffset StartedAt { get; init; }

    [JsonPropertyName("command")]
    public required string Command { get; init; }

    [JsonPropertyName("machine")]
    public required MachineDescription Machine { get; init; }

    [JsonPropertyName("settings")]
    public required DistillLoaderSettings Settings { get; init; }

    [JsonPropertyName("student")]
    public required string Student { get; init; }

    [JsonPropertyName("student_parameters")]
    public long StudentParameters { get; init; }

    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    /// <summary>Labeled images of the loader runs (the dataset's labeled train split).</summary>
    [JsonPropertyName("labeled_images")]
    public int LabeledImages { get; init; }

    /// <summary>Pseudo-labeled images of the loader runs (rows of the shard set).</summary>
    [JsonPropertyName("pseudo_images")]
    public int PseudoImages { get; init; }

    [JsonPropertyName("labeled_per_batch")]
    public int LabeledPerBatch { get; init; }

    [JsonPropertyName("epochs")]
    public List<DistillEpochRun> Epochs { get; init; } = [];

    /// <summary>Mean real-loader epoch time / mean pre-made (KD) epoch time.</summary>
    [JsonPropertyName("loader_ratio")]
    public double? LoaderRatio => Ratio(DistillEpochRun.Loader, DistillEpochRun.PremadeKd, r => r.Seconds);

    /// <summary>The same with CPU time: the ratio an otherwise idle machine would show when everything is CPU-bound.</summary>
    [JsonPropertyName("loader_cpu_ratio")]
    public double? LoaderCpuRatio => Ratio(DistillEpochRun.Loader, DistillEpochRun.PremadeKd, r => r.CpuSeconds);

    /// <summary>
    /// Per round: its real-loader epoch time / its pre-made (KD) epoch time, wall clock and CPU.
    /// </summary>
    [JsonPropertyName("loader_rounds")]
    public List<LoaderRoundRatio> LoaderRounds =>
        [.. Epochs.Where(e => e.Kind == DistillEpochRun.Loader)
            .Select(l => (Loader: l, Premade: Epochs.FirstOrDefault(e => e.Kind == DistillEpochRun.PremadeKd && e.Round == l.Round)))
            .Where(p => p.Premade is { Seconds: > 0, CpuSeconds: > 0 })
            .Select(p => new LoaderRoundRatio(p.Loader.Round, p.Loader.Seconds / p.Premade!.Seconds, p.Loader.CpuSeconds / p.Premade.CpuSeconds))];

    /// <summary>Mean KD epoch time / mean CE epoch time, both on the same pre-made batches.</summary>
    [JsonPropertyName("kd_ratio")]
    public double? KdRatio => Ratio(DistillEpochRun.PremadeKd, DistillEpochRun.PremadeCe, r => r.Seconds);

    [JsonPropertyName("kd_cpu_ratio")]
    public double? KdCpuRatio => Ratio(DistillEpochRun.PremadeKd, DistillEpochRun.PremadeCe, r => r.CpuSeconds);

    [JsonPropertyName("rss_small")]
    public ChildDistillResult? RssSmall { get; set; }

    [JsonPropertyName("rss_large")]
    public ChildDistillResult? RssLarge { get; set; }

    [JsonPropertyName("rss_ratio")]
    public double? RssRatio => RssSmall is { PeakRssKiB: > 0 } small && RssLarge is { } large ? (double)large.PeakRssKiB / small.PeakRssKiB : null;

    /// <summary>1-minute load average at the start and the end: above the core count, other work shared the machine.</summary>
    [JsonPropertyName("load_average")]
    public List<double> LoadAverage { get; init; } = [];

    /// <summary>Seconds of the set-up steps, none of them measured: imports, labeling, collecting the batches.</summary>
    [JsonPropertyName("setup_seconds")]
    public Dictionary<string, double> SetupSeconds { get; init; } = [];

    [JsonPropertyName("total_seconds")]
    public double TotalSeconds { get; set; }

    /// <summary>Mean of <paramref name="measure"/> over the runs of kind <paramref name="over"/>, divided by that of <paramref name="under"/>.</summary>
    public double? Ratio(string over, string under, Func<DistillEpochRun, double> measure)
    {
        var top = Epochs.Where(e => e.Kind == over).Select(measure).ToList();
        var bottom = Epochs.Where(e => e.Kind == under).Select(measure).ToList();
        return top.Count == 0 || bottom.Count == 0 || bottom.Average() <= 0 ? null : top.Average() / bottom.Average();
    }
}
