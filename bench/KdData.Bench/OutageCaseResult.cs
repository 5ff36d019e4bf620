using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>
/// One case of <c>outage</c>: when the outage began and ended on the bench clock, and what the Labeler did about it.
/// Times are seconds on the bench clock; the derived figures are seconds between two of them (null when the line
/// that ends them never came).
/// </summary>
internal sealed record OutageCaseResult
{
    [JsonPropertyName("case")]
    public int Case { get; init; }

    [JsonPropertyName("name")]
    public required string Name { get; init; }

    /// <summary>How long storage is kept away: from the stop (SIGTERM) to the restarted Azurite answering (the restart is begun early by Azurite's start-up time).</summary>
    [JsonPropertyName("duration_seconds")]
    public double DurationSeconds { get; init; }

    /// <summary>Seconds before the next lease renewal is due that the stop is sent.</summary>
    [JsonPropertyName("offset_seconds")]
    public double OffsetSeconds { get; init; }

    /// <summary>Arrival of the first "Partition lease renewed" line: the renewal the outage is placed against.</summary>
    [JsonPropertyName("renewal_at")]
    public double? RenewalAt { get; set; }

    /// <summary>SIGTERM sent to Azurite: the outage begins.</summary>
    [JsonPropertyName("stop_at")]
    public double? StopAt { get; set; }

    /// <summary>Azurite has exited.</summary>
    [JsonPropertyName("stopped_at")]
    public double? StoppedAt { get; set; }

    /// <summary>Azurite started again (same data folder and port).</summary>
    [JsonPropertyName("restart_at")]
    public double? RestartAt { get; set; }

    /// <summary>Azurite's port accepts connections again: storage answers, the outage is over.</summary>
    [JsonPropertyName("answering_at")]
    public double? AnsweringAt { get; set; }

    [JsonPropertyName("exit_at")]
    public double? ExitAt { get; set; }

    /// <summary>Null when the Labeler did not exit in time and was killed.</summary>
    [JsonPropertyName("exit_code")]
    public int? ExitCode { get; set; }

    /// <summary>Stop to the lease keeper's first failed renewal ("Could not renew"): where in the renewal cycle the outage really began.</summary>
    [JsonPropertyName("failed_renewal_seconds")]
    public double? FailedRenewalSeconds { get; set; }

    /// <summary>Stop to the first "is unreachable" line: how long the operations' own retries took to give up.</summary>
    [JsonPropertyName("detection_seconds")]
    public double? DetectionSeconds { get; set; }

    /// <summary>Storage answering to the first "answers again" line.</summary>
    [JsonPropertyName("answers_again_seconds")]
    public double? AnswersAgainSeconds { get; set; }

    /// <summary>Storage answering to the next "Partition lease renewed" line.</summary>
    [JsonPropertyName("renewed_seconds")]
    public double? RenewedSeconds { get; set; }

    /// <summary>The stages that paused ("is unreachable (stage)"), in order of first pause.</summary>
    [JsonPropertyName("paused_stages")]
    public List<string> PausedStages { get; init; } = [];

    /// <summary>Whether a commit was paused by the outage (stage "commit").</summary>
    [JsonPropertyName("commit_paused")]
    public bool CommitPaused { get; set; }

    /// <summary>Whether the lease was short when storage came back and had to be renewed before work resumed ("Renewed the partition lease after").</summary>
    [JsonPropertyName("lease_renewed_after_outage")]
    public bool LeaseRenewedAfterOutage { get; set; }

    /// <summary>Storage answering to the Labeler's exit: how long it went on labeling after the outage.</summary>
    [JsonPropertyName("ran_on_seconds")]
    public double? RanOnSeconds { get; set; }

    [JsonPropertyName("invariant")]
    public InvariantResult? Invariant { get; set; }

    /// <summary>Why the case failed or could not be run as planned (null when it ran as planned).</summary>
    [JsonPropertyName("failure")]
    public string? Failure { get; set; }

    /// <summary>The Labeler's output, each line with its arrival time relative to the stop (written for every case).</summary>
    [JsonPropertyName("log_file")]
    public string? LogFile { get; set; }

    /// <summary>Exit 0 with every image exactly once and nothing left uncommitted.</summary>
    [JsonPropertyName("passed")]
    public bool Passed => ExitCode == 0 && Invariant is { Intact: true } && Failure is null;

    /// <summary>The outage as storage saw it: stop sent to the port answering again.</summary>
    [JsonPropertyName("down_seconds")]
    public double? DownSeconds => AnsweringAt - StopAt;
}
