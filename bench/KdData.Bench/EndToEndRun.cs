using System.Diagnostics;
using System.Globalization;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Storage;

using KdData.Models;
namespace KdData.Bench;

/// <summary>One real Labeler run (<see cref="LabelingRun"/>) over an imported pool, into an empty output.</summary>
internal static class EndToEndRun
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    /// <param name="stores">Opens input and output.</param>
    /// <param name="teacher">The already loaded (and warmed) teacher.</param>
    /// <param name="source">A name for the table (<c>local</c>, <c>azurite</c>).</param>
    /// <param name="input">Location of the images.</param>
    /// <param name="output">Location for the shards; must not hold this teacher's labels yet.</param>
    /// <param name="settings">Batch size, decode workers, downloads.</param>
    /// <param name="otherCpu">CPU time used so far by a process the run depends on (Azurite), or null.</param>
    /// <param name="configure">Sets Labeler options the bench settings do not cover (e.g. <c>PackedConcurrency</c>), or null.</param>
    /// <param name="cancellationToken">Aborts the run.</param>
    public static async Task<EndToEndResult> RunAsync(
        ObjectStoreFactory stores,
        InferenceModel teacher,
        string source,
        string input,
        string output,
        LabelerBenchSettings settings,
        Func<TimeSpan>? otherCpu = null,
        Action<LabelingOptions>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var options = new LabelingOptions
        {
            Input = input,
            Output = output,
            Teacher = teacher.Source,
            BatchSize = settings.Batch,
            DecodeWorkers = settings.DecodeWorkers,
            FetchConcurrency = settings.FetchConcurrency,
        };
        configure?.Invoke(options);
        // The Labeler takes size, channels, mean and std from the teacher; 28 -> 32 is a plain resize.
        var imageLimits = new ImageOptions { ResizeMode = ResizeMode.Stretch };
        var run = new LabelingRun(stores, teacher, options, new PartitionOptions { Index = 0, Count = 1 }, imageLimits);

        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var otherBefore = otherCpu?.Invoke() ?? TimeSpan.Zero;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var gen2Before = GC.CollectionCount(2);
        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = ReportProgressAsync(source, run.Status, settings.Images, progressStop.Token);
        LabelingSummary summary;
        try
        {
            summary = await run.RunAsync(abort: cancellationToken);
        }
        finally
        {
            await progressStop.CancelAsync();
            await progress;
        }

        self.Refresh();
        var benchCpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        var gen2 = GC.CollectionCount(2) - gen2Before;
        double? azuriteCpu = otherCpu is null ? null : (otherCpu() - otherBefore).TotalSeconds;
        if (summary.Outcome != LabelingOutcome.Completed || summary.Errors > 0)
        {
            throw new InvalidOperationException(
                $"The {source} labeling run ended {summary.Outcome} with {summary.Errors} errors ({string.Join(", ", summary.ErrorsByReason.Select(e => $"{e.Key}: {e.Value}"))}); its figures would not be comparable.");
        }

        return new EndToEndResult
        {
            Source = source,
            Images = summary.Images,
            Seconds = summary.Seconds,
            ImagesPerSecond = summary.Images / summary.Seconds,
            InferenceSeconds = summary.InferenceSeconds,
            InferenceImagesPerSecond = summary.InferenceSeconds > 0 ? summary.Images / summary.InferenceSeconds : 0,
            ShardBytes = summary.ShardBytes,
            ShardBytesPerImage = summary.Images > 0 ? (double)summary.ShardBytes / summary.Images : 0,
            Commits = summary.Commits,
            BenchCpuSeconds = benchCpu,
            AzuriteCpuSeconds = azuriteCpu,
            AllocatedBytesPerImage = summary.Images > 0 ? (double)allocated / summary.Images : 0,
            Gen2Collections = gen2,
        };
    }

    private static async Task ReportProgressAsync(string source, LabelingStatus status, int expected, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            while (true)
            {
                await Task.Delay(ProgressInterval, cancellationToken);
                var rate = status.Images / clock.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {source}: {status.Images}/{expected} images, {rate:F0} img/s, queues {string.Join('/', status.QueueDepths)}"));
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
