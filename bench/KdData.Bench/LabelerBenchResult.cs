using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>Everything one <c>labeler</c> bench run measured; written to <c>out/bench/labeler-&lt;timestamp&gt;.json</c>.</summary>
internal sealed record LabelerBenchResult
{
    public const double LocalGoal = 0.90;
    public const double AzuriteGoal = 0.80;
    public const double RssGoal = 1.15;

    [JsonPropertyName("started_at")]
    public DateTimeOffset StartedAt { get; init; }

    [JsonPropertyName("command")]
    public required string Command { get; init; }

    [JsonPropertyName("machine")]
    public required MachineDescription Machine { get; init; }

    [JsonPropertyName("settings")]
    public required LabelerBenchSettings Settings { get; init; }

    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    [JsonPropertyName("teacher_parameters")]
    public long TeacherParameters { get; init; }

    /// <summary>Teacher-only, measured before the end-to-end runs.</summary>
    [JsonPropertyName("teacher_only_before")]
    public TeacherThroughputResult? TeacherOnlyBefore { get; init; }

    /// <summary>Teacher-only, measured between the local and the Azurite part (when both run).</summary>
    [JsonPropertyName("teacher_only_between")]
    public TeacherThroughputResult? TeacherOnlyBetween { get; set; }

    /// <summary>Single-threaded CPU per image of each stage on in-memory images (<c>--stages true</c>).</summary>
    [JsonPropertyName("stage_cpu")]
    public List<StageCpuResult>? StageCpu { get; set; }

    /// <summary>Teacher-only, measured again after them: the two show how steady the machine was.</summary>
    [JsonPropertyName("teacher_only_after")]
    public TeacherThroughputResult? TeacherOnlyAfter { get; set; }

    [JsonPropertyName("local")]
    public EndToEndResult? Local { get; set; }

    [JsonPropertyName("azurite")]
    public EndToEndResult? Azurite { get; set; }

    /// <summary>The highest teacher-only figure measured (for reference; each ratio divides by its neighbours' mean).</summary>
    [JsonPropertyName("teacher_only_images_per_second")]
    public double TeacherOnlyImagesPerSecond =>
        Math.Max(Math.Max(TeacherOnlyBefore?.ImagesPerSecond ?? 0, TeacherOnlyAfter?.ImagesPerSecond ?? 0), TeacherOnlyBetween?.ImagesPerSecond ?? 0);

    /// <summary>Local end-to-end img/s over the mean of the teacher-only figures measured right before and after it.</summary>
    [JsonPropertyName("local_ratio")]
    public double? LocalRatio => Ratio(Local, TeacherOnlyBefore, TeacherOnlyBetween ?? TeacherOnlyAfter);

    /// <summary>Azurite end-to-end img/s over the mean of the teacher-only figures measured right before and after it.</summary>
    [JsonPropertyName("azurite_ratio")]
    public double? AzuriteRatio => Ratio(Azurite, TeacherOnlyBetween ?? TeacherOnlyBefore, TeacherOnlyAfter);

    /// <summary>
    /// Teacher-only CPU per image / end-to-end CPU per image (local): the ratio to expect on an otherwise idle
    /// machine when everything is CPU-bound. Less disturbed by other load than the wall-clock ratio.
    /// </summary>
    [JsonPropertyName("local_cpu_ratio")]
    public double? LocalCpuRatio => CpuRatio(Local);

    [JsonPropertyName("azurite_cpu_ratio")]
    public double? AzuriteCpuRatio => CpuRatio(Azurite);

    [JsonPropertyName("rss_small")]
    public ChildLabelingResult? RssSmall { get; set; }

    [JsonPropertyName("rss_large")]
    public ChildLabelingResult? RssLarge { get; set; }

    [JsonPropertyName("rss_ratio")]
    public double? RssRatio => RssSmall is { PeakRssKiB: > 0 } small && RssLarge is { } large ? (double)large.PeakRssKiB / small.PeakRssKiB : null;

    /// <summary>1-minute load average when the measurements started and ended: above the core count, other work shared the machine.</summary>
    [JsonPropertyName("load_average")]
    public List<double> LoadAverage { get; init; } = [];

    [JsonPropertyName("import_seconds")]
    public Dictionary<string, double> ImportSeconds { get; init; } = [];

    [JsonPropertyName("total_seconds")]
    public double TotalSeconds { get; set; }

    private double? CpuRatio(EndToEndResult? run)
    {
        var teacher = new[] { TeacherOnlyBefore, TeacherOnlyBetween, TeacherOnlyAfter }.OfType<TeacherThroughputResult>().Select(t => t.CpuSecondsPerImage).DefaultIfEmpty(0).Min();
        return run is null || run.CpuSecondsPerImage <= 0 || teacher <= 0 ? null : teacher / run.CpuSecondsPerImage;
    }

    private static double? Ratio(EndToEndResult? run, TeacherThroughputResult? before, TeacherThroughputResult? after)
    {
        var reference = new[] { before, after }.OfType<TeacherThroughputResult>().Select(t => t.ImagesPerSecond).DefaultIfEmpty(0).Average();
        return run is null || reference <= 0 ? null : run.ImagesPerSecond / reference;
    }
}
