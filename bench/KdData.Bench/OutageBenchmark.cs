using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KdData.Models;
using KdData.Storage;
using KdData.Testing;
using Microsoft.Extensions.Options;

namespace KdData.Bench;

/// <summary>
/// <c>outage</c>: the real Labeler program against an Azurite that goes away mid-run, swept over where the outage begins
/// relative to the lease renewal and how long it lasts. Each case labels the same images into a fresh output prefix;
/// after the run's first lease renewal Azurite is stopped gracefully at a set offset before the next renewal, kept down
/// for the case's duration, restarted on the same data folder and port, and the Labeler is run to its end. Recorded:
/// exit code, how long "unreachable" took to detect and storage answering again to be noticed, which stages paused,
/// whether the lease needed renewing after the outage, and the exactly-once invariant of what was committed. The
/// markdown table and the JSON result are rewritten after every case.
/// </summary>
internal sealed partial class OutageBenchmark(OutageBenchSettings settings, string command)
{
    private const string Dataset = "az://bench/fashion-mnist/";

    /// <summary>Teacher load and the first renewal (10 s after the lease is taken) take ~15 s; a loaded machine may need far more.</summary>
    private static readonly TimeSpan FirstRenewalTimeout = TimeSpan.FromMinutes(3);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The one clock every case's times are read from: the stop, the restart and the arrival of each Labeler line.</summary>
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>
    /// The shortest time a restarted Azurite took to answer so far (none before the first restart): the restart is begun
    /// this much early (see <see cref="RunCaseAsync"/>). The shortest, so that a slow start (2-16 s were seen on a loaded
    /// 2-core machine) makes the outage longer rather than shorter; only a start quicker than every one before it makes
    /// the outage shorter than planned. The table's down s says what it was.
    /// </summary>
    private double? _startup;

    private double Now => _clock.Elapsed.TotalSeconds;

    public async Task<OutageBenchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var repoRoot = RepoRoot();
        var teacherRecord = Path.Combine(repoRoot, "samples", "fashion-mnist", "teacher", "teacher.json");
        var teacherId = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(teacherRecord, cancellationToken)).WeightsSha256![..16];
        var result = new OutageBenchResult
        {
            StartedAt = DateTimeOffset.UtcNow,
            Command = command,
            Cpu = CpuInfo.Current(),
            Settings = settings,
            Teacher = teacherId,
            LoadAverage = [MachineDescription.LoadAverage()],
        };
        Console.WriteLine($"CPU: {result.Cpu}");
        Console.WriteLine(Invariant($"Labeler: {Path.GetFullPath(settings.Labeler)}; {settings.Images} images, {settings.Views} views, batch {settings.Batch}, {settings.FetchConcurrency} download(s), commit every {settings.CommitIntervalSeconds} s"));
        Console.WriteLine(Invariant($"Cases: outages of {string.Join(", ", settings.Durations)} s x starting {string.Join(", ", settings.Offsets)} s before a lease renewal = {result.PlannedCases}"));
        var outputDirectory = Path.GetFullPath(settings.OutputDirectory);
        var logDirectory = Path.Combine(outputDirectory, "outage");
        Directory.CreateDirectory(logDirectory);
        var jsonPath = Path.Combine(outputDirectory, Invariant($"outage-{result.StartedAt:yyyyMMdd'T'HHmmss'Z'}.json"));

        Console.WriteLine($"Starting Azurite {AzuriteServer.Version} ...");
        await using var azurite = await AzuriteServer.StartAsync(repoRoot, cancellationToken);
        var stores = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = azurite.ConnectionString }));
        Console.WriteLine(Invariant($"Importing {settings.Images} images into Azurite (not measured) ..."));
        result.ImportSeconds = await BenchDataset.EnsureAsync(stores.Open(Dataset), settings.IdxDirectory, settings.Images, cancellationToken);
        var inputs = new List<ObjectInfo>();
        await foreach (var item in stores.Open(Dataset + BenchDataset.Pool).ListAllAsync(string.Empty, cancellationToken: cancellationToken))
        {
            inputs.Add(item);
        }

        await WriteAsync(result, jsonPath, cancellationToken);
        foreach (var duration in settings.Durations)
        {
            foreach (var offset in settings.Offsets)
            {
                var index = result.Cases.Count + 1;
                var outage = new OutageCaseResult
                {
                    Case = index,
                    Name = Invariant($"case{index:D2}-outage{duration}s-offset{offset}s"),
                    DurationSeconds = duration,
                    OffsetSeconds = offset,
                };
                Console.WriteLine(Invariant($"Case {index}/{result.PlannedCases}: {duration} s outage, starting {offset} s before a lease renewal ..."));
                try
                {
                    await RunCaseAsync(outage, azurite, stores, inputs, teacherRecord, teacherId, logDirectory, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // A case that could not be run as planned is a result too: recorded, and the sweep goes on.
                    outage.Failure ??= $"{e.GetType().Name}: {e.Message}";
                }

                result.Cases.Add(outage);
                Console.WriteLine("  " + Summary(outage));
                await WriteAsync(result, jsonPath, cancellationToken);
            }
        }

        result.LoadAverage.Add(MachineDescription.LoadAverage());
        result.TotalSeconds = _clock.Elapsed.TotalSeconds;
        await WriteAsync(result, jsonPath, cancellationToken);
        Console.WriteLine(Invariant($"{result.Passed} of {result.PlannedCases} cases exited 0 with every image exactly once; table: {settings.TablePath}; result: {jsonPath}"));
        return result;
    }

    private async Task RunCaseAsync(
        OutageCaseResult outage, AzuriteServer azurite, ObjectStoreFactory stores, IReadOnlyList<ObjectInfo> inputs, string teacherRecord, string teacherId, string logDirectory, CancellationToken cancellationToken)
    {
        var output = $"az://labels/{outage.Name}/";
        string[] arguments =
        [
            $"--Labeler:Input={Dataset}{BenchDataset.Pool}",
            $"--Labeler:Output={output}",
            $"--Labeler:Teacher={teacherRecord}",
            $"--Storage:ConnectionString={azurite.ConnectionString}",
            "--Labeler:CommitInterval=" + TimeSpan.FromSeconds(settings.CommitIntervalSeconds).ToString("c", CultureInfo.InvariantCulture),
            Invariant($"--Labeler:BatchSize={settings.Batch}"),
            Invariant($"--Labeler:FetchConcurrency={settings.FetchConcurrency}"),
            Invariant($"--Labeler:ViewsPerImage={settings.Views}"),
            // "Partition lease renewed" is a debug line. LeaseKeeper logs through the job's logger, so its category is
            // the job's (KdData.Labeler.LabelerJob), not KdData.Labeling.LeaseKeeper (checked on a run).
            "--Logging:LogLevel:KdData.Labeler.LabelerJob=Debug",
            // The storage retry settings are left at their defaults on purpose: how long they take to give up on an
            // unreachable store is one of the figures measured.
        ];
        var down = false;
        using var labeler = TimedLabelerProcess.Start(settings.Labeler, arguments, _clock);
        try
        {
            var renewal = await labeler.WaitForLineAsync(IsRenewal, 0, FirstRenewalTimeout, cancellationToken);
            if (renewal is not { } first)
            {
                outage.Failure = labeler.HasExited
                    ? "the Labeler exited before its first lease renewal"
                    : Invariant($"no lease renewal within {FirstRenewalTimeout.TotalSeconds} s of the start");
            }
            else
            {
                outage.RenewalAt = first.Seconds;
                await DelayUntilAsync(first.Seconds + OutageBenchSettings.RenewIntervalSeconds - outage.OffsetSeconds, cancellationToken);
                if (labeler.HasExited)
                {
                    outage.Failure = "the Labeler finished before the outage began (give it more work: --images, --views)";
                }
                else
                {
                    outage.StopAt = Now;
                    down = true;
                    await azurite.StopGracefullyAsync();
                    outage.StoppedAt = Now;
                    // Storage is down from the stop until the restarted Azurite answers, and Azurite takes seconds to
                    // start (~4 s on a loaded 2-core machine): the restart is begun as much earlier as its quickest start
                    // so far took, so that storage is away for about the case's duration rather than duration + start-up.
                    // The table shows how long it really was (down s).
                    await DelayUntilAsync(Math.Max(outage.StoppedAt.Value, outage.StopAt.Value + outage.DurationSeconds - (_startup ?? 0)), cancellationToken);
                    outage.RestartAt = Now;
                    await azurite.RestartAsync(cancellationToken);
                    down = false;
                    outage.AnsweringAt = Now;
                    _startup = Math.Min(_startup ?? double.MaxValue, outage.AnsweringAt.Value - outage.RestartAt.Value);
                }
            }

            outage.ExitCode = await labeler.WaitForExitAsync(TimeSpan.FromSeconds(settings.ExitTimeoutSeconds), cancellationToken);
            outage.ExitAt = Now;
            if (outage.ExitCode is null)
            {
                outage.Failure ??= Invariant($"no exit within {settings.ExitTimeoutSeconds} s after storage was back: killed");
            }
        }
        finally
        {
            if (down)
            {
                // The next case (and the invariant check) needs storage back, whatever went wrong here.
                await azurite.RestartAsync(CancellationToken.None);
            }

            labeler.Kill();
            Analyze(outage, labeler.Lines);
            outage.LogFile = Path.Combine(logDirectory, outage.Name + ".log");
            await File.WriteAllTextAsync(outage.LogFile, labeler.Log(outage.StopAt ?? 0), CancellationToken.None);
        }

        outage.Invariant = await CommittedOutputCheck.CheckAsync(stores.Open(output), teacherId, inputs, settings.Views, cancellationToken);
    }

    /// <summary>Reads the figures of a case off the Labeler's timed lines.</summary>
    private static void Analyze(OutageCaseResult outage, IReadOnlyList<TimedLine> lines)
    {
        if (outage.StopAt is not { } stop)
        {
            return;
        }

        double? After(double since, string text) =>
            lines.FirstOrDefault(l => l.Seconds >= since && l.Text.Contains(text, StringComparison.Ordinal)) is { Text: not null } line ? line.Seconds : null;

        outage.FailedRenewalSeconds = After(stop, "Could not renew the partition lease") - stop;
        outage.DetectionSeconds = After(stop, "is unreachable (") - stop;
        foreach (var line in lines.Where(l => l.Seconds >= stop))
        {
            if (PausedStage().Match(line.Text) is { Success: true } paused && !outage.PausedStages.Contains(paused.Groups[1].Value))
            {
                outage.PausedStages.Add(paused.Groups[1].Value);
            }
        }

        outage.CommitPaused = outage.PausedStages.Contains("commit") || lines.Any(l => l.Seconds >= stop && l.Text.Contains("resuming (commit)", StringComparison.Ordinal));
        outage.LeaseRenewedAfterOutage = lines.Any(l => l.Seconds >= stop && l.Text.Contains("Renewed the partition lease after the outage", StringComparison.Ordinal));
        if (outage.RestartAt is { } restart && outage.AnsweringAt is { } answering)
        {
            // Searched from the restart: a probe can succeed a few milliseconds before the bench's own port check does.
            outage.AnswersAgainSeconds = After(restart, "answers again after") - answering;
            outage.RenewedSeconds = After(restart, "Partition lease renewed") - answering;
            outage.RanOnSeconds = outage.ExitAt - answering;
        }
    }

    private static bool IsRenewal(string line) => line.Contains("Partition lease renewed", StringComparison.Ordinal);

    private async Task DelayUntilAsync(double seconds, CancellationToken cancellationToken)
    {
        var wait = seconds - Now;
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(wait), cancellationToken);
        }
    }

    private async Task WriteAsync(OutageBenchResult result, string jsonPath, CancellationToken cancellationToken)
    {
        result.TotalSeconds = _clock.Elapsed.TotalSeconds;
        await File.WriteAllBytesAsync(jsonPath, JsonSerializer.SerializeToUtf8Bytes(result, Json), cancellationToken);
        var table = Path.GetFullPath(settings.TablePath);
        Directory.CreateDirectory(Path.GetDirectoryName(table)!);
        await File.WriteAllTextAsync(table, OutageReport.Markdown(result, MachineDescription.LoadAverage()), cancellationToken);
    }

    private static string Summary(OutageCaseResult c)
    {
        static string F(double? v) => v is { } x ? x.ToString("F1", CultureInfo.InvariantCulture) : "-";
        var invariant = c.Invariant is not { } i ? "not checked" : i.Intact ? "intact" : Invariant($"BROKEN ({i.ProblemCount} problems: {string.Join("; ", i.Problems.Take(3))})");
        return $"{(c.Passed ? "ok" : "FAIL")}: exit {(c.ExitCode is { } code ? code.ToString(CultureInfo.InvariantCulture) : "none")}, renewal failed +{F(c.FailedRenewalSeconds)} s, detect {F(c.DetectionSeconds)} s, "
            + $"answers again {F(c.AnswersAgainSeconds)} s, renewed {F(c.RenewedSeconds)} s, paused {string.Join('/', c.PausedStages)}, lease renewed after: {(c.LeaseRenewedAfterOutage ? "yes" : "no")}, "
            + $"ran on {F(c.RanOnSeconds)} s, exactly once: {invariant}{(c.Failure is null ? string.Empty : "; " + c.Failure)}";
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KdData.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"is unreachable \((\w+)\)")]
    private static partial Regex PausedStage();
}
