using System.Globalization;
using System.Text.Json;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Storage;
using KdData.Torch;
using Microsoft.Extensions.Options;

namespace KdData.Labeler;

/// <summary>
/// The Labeler's job: loads the teacher, labels this replica's partition of the input, commits soft-target
/// shards and prints a run summary. Exit codes: 0 done; 3 stopped by SIGTERM after committing (rerun to
/// continue); 4 error threshold exceeded; 2 bad settings; 1 anything else (see docs/operations.md "Exit codes").
/// </summary>
public sealed class LabelerJob : JobService
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    /// <summary>Time allowed for in-flight work after SIGTERM (the host waits 25 s in all).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);
    private readonly ObjectStoreFactory _stores;
    private readonly LabelingOptions _options;
    private readonly PartitionOptions _partition;
    private readonly ImageOptions _imageOptions;
    private readonly TorchOptions _torchOptions;
    private readonly TimeProvider _time;

    public LabelerJob(
        ObjectStoreFactory stores,
        IOptions<LabelingOptions> options,
        IOptions<PartitionOptions> partition,
        IOptions<ImageOptions> imageOptions,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILogger<LabelerJob> logger,
        TimeProvider time)
        : base(lifetime, outcome, logger)
    {
        _stores = stores;
        _options = options.Value;
        _partition = partition.Value;
        _imageOptions = imageOptions.Value;
        _torchOptions = torchOptions.Value;
        _time = time;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        try
        {
            // A misspelt input would otherwise list as nothing to do and end "successfully".
            await _stores.Open(_options.Input).ListAsync(string.Empty, 1, null, stoppingToken);
        }
        catch (StoreNotFoundException e)
        {
            Logger.LogCritical("Invalid configuration: Labeler:Input: {Message}", e.Message);
            return ExitCodes.InvalidConfiguration;
        }

        var device = TorchDeviceSelector.Initialize(_torchOptions);
        using var teacher = await InferenceModel.LoadAsync(_stores, _options.Teacher, device, stoppingToken);
        Logger.LogInformation(
            "Teacher {Id}: {Architecture}, {Classes} classes, from {Source}; device {Device}",
            teacher.Id, teacher.Record.Architecture.Name, teacher.ClassCount, teacher.Source, device);
        if (_partition.Claim)
        {
            return await RunClaimedAsync(teacher, stoppingToken);
        }

        LabelingRun run;
        try
        {
            run = new LabelingRun(_stores, teacher, _options, _partition, _imageOptions, Logger, _time);
        }
        catch (ArgumentException e)
        {
            // Settings that only make sense against the teacher (class names in thresholds or caps).
            Logger.LogCritical("Invalid configuration: {Message}", e.Message);
            return ExitCodes.InvalidConfiguration;
        }

        // SIGTERM stops the intake only: in-flight images are finished and committed. If draining takes
        // too long for the host's shutdown timeout, the rest is abandoned (redone next run) so that the
        // final commit still happens in time.
        using var abort = new CancellationTokenSource();
        using var abortOnStop = stoppingToken.Register(() => abort.CancelAfter(DrainTimeout));
        using var reporting = new CancellationTokenSource();
        var reporter = ReportProgressAsync(run.Status, reporting.Token);
        LabelingSummary summary;
        try
        {
            summary = await run.RunAsync(stopIntake: stoppingToken, abort: abort.Token);
        }
        finally
        {
            await reporting.CancelAsync();
            await reporter;
        }

        Logger.LogInformation(
            "Run {Outcome}: {Images} images ({Accepted} accepted views, {Rejected} rejected, {Errors} errors), {AlreadyLabeled} already labeled, {Commits} commits, {Seconds:F1} s, {Rate:F1} images/s, teacher {Teacher}",
            summary.Outcome, summary.Images, summary.AcceptedViews, summary.RejectedViews, summary.Errors, summary.AlreadyLabeled, summary.Commits, summary.Seconds, summary.ImagesPerSecond, summary.Teacher);
        Console.WriteLine(JsonSerializer.Serialize(summary, IndentedJson));
        return summary.Outcome switch
        {
            LabelingOutcome.Completed => ExitCodes.Success,
            LabelingOutcome.Interrupted => ExitCodes.Interrupted,
            _ => ExitCodes.ErrorThresholdExceeded,
        };
    }

    /// <summary>Claim mode (<c>Labeler:Partition:Claim</c>): partitions one after another until all are complete; a summary per partition labeled.</summary>
    private async Task<int> RunClaimedAsync(InferenceModel teacher, CancellationToken stoppingToken)
    {
        ClaimedPartitions claimed;
        try
        {
            claimed = new ClaimedPartitions(_stores, teacher, _options, _partition, _imageOptions, Logger, _time);
        }
        catch (ArgumentException e)
        {
            Logger.LogCritical("Invalid configuration: {Message}", e.Message);
            return ExitCodes.InvalidConfiguration;
        }

        using var abort = new CancellationTokenSource();
        using var abortOnStop = stoppingToken.Register(() => abort.CancelAfter(DrainTimeout));
        var summaries = await claimed.RunAsync(stopIntake: stoppingToken, abort: abort.Token);
        foreach (var summary in summaries)
        {
            Console.WriteLine(JsonSerializer.Serialize(summary, IndentedJson));
        }

        return summaries.Count > 0 && summaries[^1].Outcome != LabelingOutcome.Completed
            ? summaries[^1].Outcome == LabelingOutcome.Interrupted ? ExitCodes.Interrupted : ExitCodes.ErrorThresholdExceeded
            : stoppingToken.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Success;
    }

    private async Task ReportProgressAsync(LabelingStatus status, CancellationToken cancellationToken)
    {
        var reporter = new ProgressReporter(Logger);
        var interval = reporter.IsTerminal ? TimeSpan.FromSeconds(0.5) : reporter.LogInterval;
        var started = DateTime.UtcNow;
        try
        {
            while (true)
            {
                await Task.Delay(interval, cancellationToken);
                var seconds = (DateTime.UtcNow - started).TotalSeconds;
                var rate = status.Images / Math.Max(seconds, 1e-3);
                var eta = status.ListingComplete && rate > 0 ? TimeSpan.FromSeconds(status.InFlight / rate).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "listing";
                var total = status.ListingComplete ? status.Listed - status.AlreadyLabeled : Math.Max(status.Listed - status.AlreadyLabeled, status.Images);
                reporter.Report(
                    "labeling",
                    status.Images,
                    total,
                    string.Create(CultureInfo.InvariantCulture, $"{rate:F0} img/s, errors {status.Errors}, queues {string.Join('/', status.QueueDepths)}, eta {eta}"));
            }
        }
        catch (OperationCanceledException)
        {
            reporter.EndLine();
        }
#pragma warning disable CA1031 // Progress display must never change the run's outcome.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Logger.LogWarning("Progress reporting stopped: {Message}", e.Message);
        }
    }
}
