using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>Everything one <c>outage</c> run measured; written to <c>out/bench/outage-&lt;time&gt;.json</c> after every case.</summary>
internal sealed record OutageBenchResult
{
    /// <summary>Goal: "unreachable" is detected well before half a minute of backoff.</summary>
    public const double DetectionGoalSeconds = 30;

    /// <summary>Goal: recovery within a few seconds of storage answering (the Labeler probes every 2 s).</summary>
    public const double RecoveryGoalSeconds = 5;

    [JsonPropertyName("started_at")]
    public DateTimeOffset StartedAt { get; init; }

    [JsonPropertyName("command")]
    public required string Command { get; init; }

    [JsonPropertyName("cpu")]
    public required CpuInfo Cpu { get; init; }

    [JsonPropertyName("settings")]
    public required OutageBenchSettings Settings { get; init; }

    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    [JsonPropertyName("import_seconds")]
    public double ImportSeconds { get; set; }

    [JsonPropertyName("cases")]
    public List<OutageCaseResult> Cases { get; init; } = [];

    [JsonPropertyName("planned_cases")]
    public int PlannedCases => Settings.Durations.Count * Settings.Offsets.Count;

    [JsonPropertyName("passed")]
    public int Passed => Cases.Count(c => c.Passed);

    [JsonPropertyName("worst_detection_seconds")]
    public double? WorstDetectionSeconds => Cases.Max(c => c.DetectionSeconds);

    [JsonPropertyName("worst_answers_again_seconds")]
    public double? WorstAnswersAgainSeconds => Cases.Max(c => c.AnswersAgainSeconds);

    [JsonPropertyName("worst_renewed_seconds")]
    public double? WorstRenewedSeconds => Cases.Max(c => c.RenewedSeconds);

    [JsonPropertyName("load_average")]
    public List<double> LoadAverage { get; init; } = [];

    [JsonPropertyName("total_seconds")]
    public double TotalSeconds { get; set; }
}
