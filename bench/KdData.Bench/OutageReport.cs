using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KdData.Bench;

/// <summary>The markdown result of <c>outage</c> (<c>bench/labeler/outage.md</c>): the machine, the command, one row per case, the summary.</summary>
internal static class OutageReport
{
    /// <summary>
    /// Writes the table again from a run's JSON result (<c>outage --render JSON</c>), e.g. after the wording of the
    /// report changed: the figures stay those of the run. The load average "now" is the one recorded at the run's end.
    /// </summary>
    public static async Task RenderAsync(string jsonPath, string tablePath, CancellationToken cancellationToken = default)
    {
        var result = JsonSerializer.Deserialize<OutageBenchResult>(await File.ReadAllBytesAsync(jsonPath, cancellationToken))
            ?? throw new ArgumentException($"'{jsonPath}' holds no outage result.");
        await File.WriteAllTextAsync(tablePath, Markdown(result, result.LoadAverage.Count > 1 ? result.LoadAverage[^1] : 0), cancellationToken);
        Console.WriteLine($"{tablePath} written from {jsonPath}");
    }

    public static string Markdown(OutageBenchResult r, double loadAverageNow)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"# Labeler storage outages: where in the lease cycle, how long (`outage`)");
        Line($"");
        Line($"Written by `bash bench/labeler/outage.sh` after every case (a stopped run leaves the cases it finished).");
        Line($"");
        Line($"- CPU: {r.Cpu}");
        Line($"- Date: {r.StartedAt:yyyy-MM-dd HH:mm} UTC; load average (1 min) {Format(r.LoadAverage.FirstOrDefault())} at start, {Format(loadAverageNow)} after the last case written (another benchmark may share the cores)");
        Line($"- Command: `{r.Command}`");
        Line($"- Labeler: {s.Images} Fashion-MNIST images in Azurite, teacher {r.Teacher} (samples/fashion-mnist/teacher), {s.Views} views per image, batch {s.Batch}, {s.FetchConcurrency} download(s) at a time, commit every {Format(s.CommitIntervalSeconds)} s, default storage retries; lease 60 s, renewed every {Format(OutageBenchSettings.RenewIntervalSeconds)} s");
        Line($"- Each case: a fresh output prefix; after the first \"Partition lease renewed\", Azurite is stopped gracefully (SIGTERM) *offset* seconds before the next renewal is due, restarted on the same data folder and port so that it answers again *outage* seconds after the stop (the restart is begun as much earlier as Azurite's quickest start so far took; *down* is what it really was), and the Labeler run to its end.");
        Line($"");
        Line($"| # | outage s | offset s | renewal failed s | down s | exit | detect s | answers again s | renewed s | paused | lease renewed after | ran on s | commits | exactly once |");
        Line($"|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in r.Cases)
        {
            var invariant = c.Invariant is not { } i ? "not checked"
                : i.Intact ? $"yes ({i.Images} x {s.Views})"
                : $"**NO**: {i.ProblemCount} problems, e.g. {(i.Problems.Count > 0 ? i.Problems[0] : string.Empty)}";
            Line($"| {c.Case} | {Format(c.DurationSeconds)} | {Format(c.OffsetSeconds)} | {Format(c.FailedRenewalSeconds)} | {Format(c.DownSeconds)} | {(c.ExitCode is { } code ? code.ToString(CultureInfo.InvariantCulture) : "killed")}{(c.Passed ? string.Empty : " **FAIL**")} | {Format(c.DetectionSeconds)} | {Format(c.AnswersAgainSeconds)} | {Format(c.RenewedSeconds)} | {(c.PausedStages.Count == 0 ? "—" : string.Join(", ", c.PausedStages))} | {(c.LeaseRenewedAfterOutage ? "yes" : "no")} | {Format(c.RanOnSeconds)} | {(c.Invariant?.Commits.ToString(CultureInfo.InvariantCulture) ?? "—")} | {invariant} |");
        }

        Line($"");
        var detection = Worst(r.Cases, c => c.DetectionSeconds);
        var answers = Worst(r.Cases, c => c.AnswersAgainSeconds);
        var renewed = Worst(r.Cases, c => c.RenewedSeconds);
        Line($"**Summary: {r.Passed} of {r.PlannedCases} cases exited 0 with the invariant intact{(r.Cases.Count < r.PlannedCases ? $" ({r.Cases.Count} run so far)" : string.Empty)}; worst detection {detection}; worst recovery {answers} to \"answers again\" and {renewed} to the next lease renewal.**");
        var real = r.Cases.Where(c => c.DownSeconds is not null).GroupBy(c => c.DurationSeconds)
            .Select(g => $"{Format(g.Key)} s planned: {Format(g.Min(c => c.DownSeconds))}-{Format(g.Max(c => c.DownSeconds))} s").ToList();
        if (real.Count > 0)
        {
            Line($"");
            Line($"Outages as storage had them (down s): {string.Join("; ", real)}.");
        }

        Line($"");
        Line($"Goals: every case exit 0 and exactly once: {Verdict(r.Cases.Count == r.PlannedCases && r.Passed == r.PlannedCases)}; detection under {Format(OutageBenchResult.DetectionGoalSeconds)} s (not half a minute of backoff): {Verdict(r.Cases.All(c => c.DetectionSeconds < OutageBenchResult.DetectionGoalSeconds))}; recovery (\"answers again\") within {Format(OutageBenchResult.RecoveryGoalSeconds)} s of storage answering: {Verdict(r.Cases.All(c => c.AnswersAgainSeconds <= OutageBenchResult.RecoveryGoalSeconds))}.");
        var failures = r.Cases.Where(c => !c.Passed).ToList();
        if (failures.Count > 0)
        {
            Line($"");
            Line($"Failed cases:");
            Line($"");
            foreach (var c in failures)
            {
                var problems = c.Invariant is { Intact: false } i ? $"; {i.ProblemCount} invariant problems: {string.Join("; ", i.Problems.Take(5))}" : string.Empty;
                Line($"- case {c.Case} ({c.Name}): exit {(c.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none (killed)")}{(c.Failure is null ? string.Empty : "; " + c.Failure)}{problems}; log `{c.LogFile}`");
            }
        }

        Line($"");
        Line($"Columns (seconds on the bench's clock; Labeler lines are timed on arrival at the bench): *offset* = the stop is sent this long before the next renewal is due (last renewal + {Format(OutageBenchSettings.RenewIntervalSeconds)} s); *renewal failed* = stop to the lease keeper's first \"Could not renew\" (where the due renewal really fell); *down* = stop sent to Azurite's port answering again: the outage storage really had (Azurite's graceful stop and its start-up take seconds, more on a loaded machine, so short outages come out longer than planned); *detect* = stop to the first \"is unreachable\" (the operations' retries giving up); *answers again* and *renewed* = Azurite answering to the first \"answers again\" and to the next \"Partition lease renewed\"; *paused* = the stages that paused (\"(commit)\": a commit met the outage); *lease renewed after* = the lease had under 10 s left and was renewed before work resumed; *ran on* = Azurite answering to the Labeler's exit; *exactly once* = every input image has exactly one committed row per view, no error row, nothing twice, no shard file outside the manifests. Logs: `{Path.Combine(s.OutputDirectory, "outage")}/`.");
        return text.ToString();
    }

    private static string Worst(IEnumerable<OutageCaseResult> cases, Func<OutageCaseResult, double?> figure)
    {
        var worst = cases.Where(c => figure(c) is not null).MaxBy(c => figure(c));
        return worst is null ? "—" : string.Create(CultureInfo.InvariantCulture, $"{figure(worst):F1} s (case {worst.Case})");
    }

    private static string Verdict(bool met) => met ? "PASS" : "MISS";

    private static string Format(double? value) => value is { } v ? v.ToString("0.0#", CultureInfo.InvariantCulture) : "—";
}
