using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace KdData.Bench;

/// <summary>Starts this program again as <c>labeler-child</c> and collects its result.</summary>
internal static class ChildLabelingProcess
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static async Task<ChildLabelingResult> RunAsync(string input, string teacherPath, int images, LabelerBenchSettings settings, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(Environment.ProcessPath ?? throw new InvalidOperationException("The bench cannot find its own executable to start a child process."))
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(startInfo.FileName), "dotnet", StringComparison.Ordinal))
        {
            // Run as `dotnet kddata-bench.dll`: the child needs the assembly too.
            startInfo.ArgumentList.Add(typeof(ChildLabelingProcess).Assembly.Location);
        }

        startInfo.ArgumentList.Add(ChildLabelingCommand.Name);
        foreach (var (name, value) in new (string, string)[]
                 {
                     ("input", input), ("teacher", teacherPath),
                     ("images", Invariant(images)), ("batch", Invariant(settings.Batch)), ("threads", Invariant(settings.Threads)),
                     ("decode-workers", Invariant(settings.DecodeWorkers)), ("fetch", Invariant(settings.FetchConcurrency)),
                 })
        {
            startInfo.ArgumentList.Add("--" + name);
            startInfo.ArgumentList.Add(value);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("Process.Start returned null for the child run.");
        ChildLabelingResult? result = null;
        long polledPeak = 0;
        using var pollStop = new CancellationTokenSource();
        // Cross-check of the child's own figure, and a fallback should it die before printing it.
        var poll = Task.Run(async () =>
        {
            while (!pollStop.IsCancellationRequested)
            {
                polledPeak = Math.Max(polledPeak, PeakMemory.ReadVmHwmKiB(process.Id));
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

        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(cancellationToken)) is not null)
        {
            if (line.StartsWith(ChildLabelingCommand.ResultPrefix, StringComparison.Ordinal))
            {
                result = JsonSerializer.Deserialize<ChildLabelingResult>(line[ChildLabelingCommand.ResultPrefix.Length..]);
            }
            else
            {
                Console.WriteLine("  [child " + Invariant(images) + "] " + line.TrimStart());
            }
        }

        await process.WaitForExitAsync(cancellationToken);
        await pollStop.CancelAsync();
        await poll;
        if (process.ExitCode != 0 || result is null)
        {
            throw new InvalidOperationException(
                $"The child labeling run of {images} images failed (exit {process.ExitCode}, last polled VmHWM {polledPeak} KiB); see its output above.");
        }

        return result;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
