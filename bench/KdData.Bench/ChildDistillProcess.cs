using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace KdData.Bench;

/// <summary>
/// Runs the real <c>kddata-trainer distill</c> (built next to the bench through its project reference) in a child
/// process, polls its peak RSS (VmHWM), and stops it with SIGTERM a set time after training started: peak memory is
/// reached once the shard set is read and the pipeline is full, so a whole epoch over 54k rows is not needed. The peak
/// when training starts (the load's) is recorded too.
/// </summary>
internal static partial class ChildDistillProcess
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Time a child may take beyond --rss-seconds (loading the shard set, building the model) before it is killed.</summary>
    private static readonly TimeSpan ChildTimeLimit = TimeSpan.FromMinutes(30);

    /// <param name="dataset">Dataset root (file URI) with the labeled train split and a test split.</param>
    /// <param name="shards">The pool's shard set (file URI of the Labeler's output).</param>
    /// <param name="poolImages">Pool images labeled into <paramref name="shards"/>, for the report.</param>
    /// <param name="workDirectory">The child's working and output folder.</param>
    /// <param name="settings">Student, batch, threads, decode workers and the training seconds.</param>
    /// <param name="cancellationToken">Kills the child.</param>
    public static async Task<ChildDistillResult> RunAsync(string dataset, string shards, int poolImages, string workDirectory, DistillLoaderSettings settings, CancellationToken cancellationToken = default)
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "kddata-trainer");
        var dll = Path.Combine(AppContext.BaseDirectory, "kddata-trainer.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"'{dll}' is missing; the bench project references src/Trainer to build it.");
        }

        var startInfo = new ProcessStartInfo(File.Exists(apphost) ? apphost : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        if (!File.Exists(apphost))
        {
            startInfo.ArgumentList.Add(dll);
        }

        foreach (var argument in new[]
                 {
                     "distill", "--dataset", dataset,
                     "--Trainer:Distill:Output=" + Path.Combine(workDirectory, "student"),
                     "--Trainer:Distill:Model:Name=convnet",
                     Invariant($"--Trainer:Distill:Model:Width={settings.Width}"),
                     // More epochs than --rss-seconds allows: both children are stopped the same time into training. With
                     // one epoch the small run ended after ~18 s while the large one trained 60 s, so the two peaks
                     // covered different amounts of training (and memory a run gains while it trains).
                     "--Trainer:Distill:Epochs=1000",
                     Invariant($"--Trainer:Distill:BatchSize={settings.Batch}"),
                     "--Trainer:Distill:Shards:Locations:0=" + shards,
                     "--Trainer:Distill:EvalTeacher=none",
                     Invariant($"--Torch:Threads={settings.Threads}"),
                     Invariant($"--Trainer:Data:DecodeWorkers={settings.DecodeWorkers}"),
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Process.Start returned null for the child distill run.");
        long peak = 0;
        long loadPeak = 0;
        using var pollStop = new CancellationTokenSource();
        var poll = Task.Run(async () =>
        {
            while (!pollStop.IsCancellationRequested)
            {
                peak = Math.Max(peak, PeakMemory.ReadVmHwmKiB(process.Id));
                try
                {
                    await Task.Delay(PollInterval, pollStop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }, CancellationToken.None);

        int? labeled = null, pseudo = null;
        TimeSpan? trainingStarted = null;
        Task? stopper = null;
        var gate = new Lock();
        void OnLine(string line)
        {
            // stdout and stderr are pumped concurrently.
            using var held = gate.EnterScope();
            Console.WriteLine(Invariant($"  [distill {poolImages}] {line.TrimStart()}"));
            if (RowsLine().Match(line) is { Success: true } rows)
            {
                labeled = int.Parse(rows.Groups[1].Value, CultureInfo.InvariantCulture);
                pseudo = int.Parse(rows.Groups[2].Value, CultureInfo.InvariantCulture);
            }

            if (trainingStarted is null && line.Contains("Training student", StringComparison.Ordinal))
            {
                trainingStarted = clock.Elapsed;
                // The peak up to here is the data load's: shard sets read, samples joined, model built.
                loadPeak = PeakMemory.ReadVmHwmKiB(process.Id);
                stopper = StopLaterAsync(process, settings.RssSeconds, cancellationToken);
            }
        }

        // The child has 1000 epochs and is normally stopped by SIGTERM once its "Training student" line appears; if that
        // line never comes (a renamed log message, a hang), it must not train for hours.
        var limit = TimeSpan.FromSeconds(settings.RssSeconds) + ChildTimeLimit;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(limit);
        try
        {
            var errors = PumpAsync(process.StandardError, OnLine, deadline.Token);
            await PumpAsync(process.StandardOutput, OnLine, deadline.Token);
            await errors;
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new InvalidOperationException(
                Invariant($"The child distill run over {poolImages} pool images did not end within {limit.TotalMinutes:F0} min (training started: {trainingStarted is not null}); see its output above."));
        }

        var exited = clock.Elapsed;
        await pollStop.CancelAsync();
        await poll;
        if (stopper is not null)
        {
            await stopper;
        }

        if (process.ExitCode is not (0 or 3) || peak == 0)
        {
            throw new InvalidOperationException(
                Invariant($"The child distill run over {poolImages} pool images failed (exit {process.ExitCode}, polled VmHWM {peak} KiB); see its output above."));
        }

        return new ChildDistillResult
        {
            PoolImages = poolImages,
            LabeledRows = labeled,
            PseudoRows = pseudo,
            PeakRssKiB = peak,
            LoadPeakRssKiB = loadPeak,
            Seconds = exited.TotalSeconds,
            TrainingSeconds = trainingStarted is { } started ? (exited - started).TotalSeconds : 0,
            ExitCode = process.ExitCode,
        };
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine, CancellationToken cancellationToken)
    {
        string? line;
        while ((line = await reader.ReadLineAsync(cancellationToken)) is not null)
        {
            onLine(line);
        }
    }

    /// <summary>SIGTERM after <paramref name="seconds"/>: the distill job saves its progress and exits 3.</summary>
    private static async Task StopLaterAsync(Process process, double seconds, CancellationToken cancellationToken)
    {
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(seconds), cancellationToken);
        }
        catch (TimeoutException)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
            if (kill is not null)
            {
                await kill.WaitForExitAsync(cancellationToken);
            }
        }
    }

    [GeneratedRegex(@"Distilling from (\d+) labeled images .* and (\d+) pseudo-labeled images")]
    private static partial Regex RowsLine();

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
