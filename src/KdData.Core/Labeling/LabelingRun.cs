using System.Diagnostics;
using System.Threading.Channels;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Models;
using KdData.PackedImages;
using KdData.Dataflow;
using KdData.SoftTargets;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Labeling;

/// <summary>
/// One Labeler run over one partition:
/// list (paged, stable order) -> fetch (N concurrent) -> decode + preprocess views (M workers)
/// -> batch + teacher (one consumer, inference mode) -> confidence filter -> commit.
/// Every stage is joined by a bounded channel; a fault anywhere cancels the rest and is reported once.
/// <para>
/// Exactly once: every listed image of the partition ends in exactly one of accepted / rejected
/// (per view) or errors. Shard files are written create-only, then made visible by replacing the
/// partition's manifest only if it is unchanged (ETag); a lease keeps a second replica off the same
/// partition. At start, files of this partition that no manifest lists (left by a killed run) are
/// deleted, and keys already committed at the same ETag (by any partition) are skipped, so a rerun
/// after SIGKILL continues from the last commit and a rerun after new uploads labels only what is new
/// or changed. Commits happen only at image boundaries.
/// </para>
/// The parts: <see cref="LeaseKeeper"/>, <see cref="CommittedState"/>, <see cref="ViewPreparer"/>,
/// <see cref="TeacherBatcher"/>, <see cref="LabelingThresholds"/>, <see cref="ShardCommitter"/>,
/// <see cref="SoftTargets.ShardFooter"/>, <see cref="RunSummary"/>.
/// </summary>
public sealed class LabelingRun
{
    /// <summary>Version recorded in shard footers.</summary>
    public const string Version = "1";

    /// <summary>Error reason of an image whose bytes could not be read after retries; retried by the next run.</summary>
    public const string UnreadableReason = "unreadable";

    private readonly ObjectStoreFactory _stores;
    private readonly InferenceModel _teacher;
    private readonly LabelingOptions _options;
    private readonly PartitionLayout _layout;
    private readonly ImageOptions _imageOptions;
    private readonly ILogger _logger;
    private readonly LabelingStatus _status = new();
    private readonly int _topK;
    private readonly LabelingThresholds _thresholds;
    private readonly TimeProvider _time;

    /// <param name="stores">Opens input and output.</param>
    /// <param name="teacher">The loaded teacher; its record's preprocessing is applied to every image.</param>
    /// <param name="options">Labeler settings.</param>
    /// <param name="partition">Which share of the keys to label.</param>
    /// <param name="imageLimits">Decoding limits and resize mode (size, channels, mean and std come from the teacher).</param>
    /// <param name="logger">Progress and warnings.</param>
    /// <param name="timeProvider">
    /// The clock of the lease (acquire wait, renewals), the commit interval and the outage probes; <see cref="TimeProvider.System"/> when null.
    /// The run summary's start time and duration are measured on the real clock.
    /// </param>
    /// <exception cref="InvalidInputException">The teacher's record has no preprocessing.</exception>
    public LabelingRun(ObjectStoreFactory stores, InferenceModel teacher, LabelingOptions options, PartitionOptions partition, ImageOptions imageLimits, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(imageLimits);
        _stores = stores;
        _teacher = teacher;
        _options = options;
        _layout = new PartitionLayout($"teacher={teacher.Id}/", partition.EffectiveIndex, partition.Count);
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        var pre = teacher.Record.Preprocessing
            ?? throw new InvalidInputException($"Teacher checkpoint '{teacher.Source}' records no preprocessing; the Labeler cannot know how the teacher saw its inputs.");
        _imageOptions = new ImageOptions
        {
            OutputSize = pre.Width,
            ResizeSize = pre.Width,
            ResizeMode = imageLimits.ResizeMode,
            Channels = pre.Channels,
            Mean = [.. pre.Mean],
            Std = [.. pre.Std],
            Background = imageLimits.Background,
            MaxPixels = imageLimits.MaxPixels,
            MaxBytes = imageLimits.MaxBytes,
        };
        var classes = teacher.ClassCount;
        _topK = options.TopK > 0 ? Math.Min(options.TopK, classes) : Math.Min(classes, 100);
        _thresholds = LabelingThresholds.Resolve(options, teacher.Record.Classes, classes, teacher.Id);
        LeaseWait = options.LeaseWait;
    }

    /// <summary>Live counters for progress reporting.</summary>
    public LabelingStatus Status => _status;

    /// <summary>How long to wait for a partition lease held by another; claim mode tries once. Default <see cref="LabelingOptions.LeaseWait"/>.</summary>
    internal TimeSpan LeaseWait { get; init; }

    /// <summary>The folder (relative to the output location) this teacher writes to.</summary>
    public string TeacherFolder => _layout.TeacherFolder;

    /// <summary>
    /// Labels the partition. <paramref name="stopIntake"/> (SIGTERM) stops listing; what is in flight is
    /// finished and committed. <paramref name="abort"/> stops everything at once (work since the last commit is redone next time).
    /// </summary>
    public async Task<LabelingSummary> RunAsync(CancellationToken stopIntake = default, CancellationToken abort = default)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var input = _stores.Open(_options.Input);
        var output = _stores.Open(_options.Output);

        // Start-up (waiting for the lease, cleaning up, reading what is done) has nothing to commit,
        // so a shutdown request stops it at once.
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(stopIntake, abort);
        var lease = await LeaseKeeper.AcquireAsync(output, _layout, _teacher.Id, LeaseWait, _logger, _time, startup.Token).ConfigureAwait(false);
        using var leaseStop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var run = new StagedRun(abort);
        await using var runScope = run.ConfigureAwait(false);
        var renewal = lease.RenewAsync(run, _options.OutageLimit, leaseStop.Token);
        try
        {
            var state = await CommittedState.RecoverAsync(output, _layout, _teacher.Id, _logger, startup.Token).ConfigureAwait(false);
            _logger.LogInformation(
                "Labeling {Input} partition {Partition}/{Count} with teacher {Teacher} into {Output}{Folder}; {Done} images already labeled by this teacher",
                input.Location, _layout.Partition, _layout.Count, _teacher.Id, output.Location, _layout.TeacherFolder, state.Done.Count);

            var metadata = Footer(input.Location.ToString()).ToMetadata();
            var committer = new ShardCommitter(output, _layout.TeacherFolder, _layout.Tag, _layout.ManifestKey, state.Manifest, state.ManifestETag, metadata, _options, lease.Lease, _time);
            var outage = new StorageOutage(lease, _options.OutageLimit, _logger, _time);
            var outcome = await PipelineAsync(input, output, run, state.Done, committer, outage, stopIntake).ConfigureAwait(false);
            var summary = RunSummary.Create(_teacher.Id, _teacher.Source, input, output, _layout, startedAt, clock.Elapsed, outcome, _status, committer);
            await RunSummary.WriteAsync(output, _layout, summary, abort).ConfigureAwait(false);
            return summary;
        }
        finally
        {
            await leaseStop.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            await lease.ReleaseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What every shard of this run records about the teacher, the preprocessing and the filter.</summary>
    private ShardFooter Footer(string inputLocation)
    {
        var record = _teacher.Record;
        return new ShardFooter(
            _teacher.Id, record.WeightsSha256, _teacher.Source, record.Classes,
            _imageOptions.OutputSize, _imageOptions.Channels, _imageOptions.Mean ?? [], _imageOptions.Std ?? [], _imageOptions.ResizeMode.ToString(),
            _options.ViewsPerImage, _topK, inputLocation)
        {
            LabelerVersion = Version,
            Architecture = record.Architecture,
            ViewSeed = _options.ViewSeed,
            ViewScaleMin = _options.ViewScaleMin,
            Thresholds = (_options.MinConfidence, _thresholds.Confidence, _options.ClassCaps),
            Partition = (_layout.Partition, _layout.Count),
        };
    }

    private async Task<LabelingOutcome> PipelineAsync(
        IObjectStore input, IObjectStore output, StagedRun run, HashSet<(string Key, string ETag)> done, ShardCommitter committer, StorageOutage outage, CancellationToken stopIntake)
    {
        var capacity = _options.ChannelCapacity;
        var toFetch = Channel.CreateBounded<ObjectInfo>(new BoundedChannelOptions(capacity) { SingleWriter = true });
        var toDecode = Channel.CreateBounded<FetchedImage>(capacity);
        var toLabel = Channel.CreateBounded<PreparedImage>(new BoundedChannelOptions(capacity) { SingleReader = true });
        var results = Channel.CreateBounded<ImageResult>(new BoundedChannelOptions(capacity) { SingleReader = true });
        _status.Attach(toFetch.Reader, toDecode.Reader, toLabel.Reader, results.Reader);
        var decodeWorkers = _options.DecodeWorkers > 0 ? _options.DecodeWorkers : Environment.ProcessorCount;
        var listingComplete = false;
        var packedCut = false;
        using var packed = new PackedInput(_options, done, _layout, _status, outage, _logger);

        run.Start("list", 1, toFetch.Writer, async ct =>
        {
            using var intake = CancellationTokenSource.CreateLinkedTokenSource(ct, stopIntake);
            try
            {
                await foreach (var item in outage.ListAsync(input, _options.ListPageSize, intake.Token).ConfigureAwait(false))
                {
                    var isPacked = PackedFormats.Resolve(_options.InputFormat, item.Key) != InputFormat.Loose;
                    if (!(isPacked && _options.PartitionBy == PartitionUnit.Image)
                        && KeyPartitioner.PartitionOf(item.Key, _layout.Count) != _layout.Partition)
                    {
                        continue;
                    }

                    // A packed file counts its members as it reads them; its key is done only when it failed as a whole.
                    if (!isPacked)
                    {
                        _status.AddListed();
                    }

                    if (done.Contains((item.Key, item.ETag)))
                    {
                        _status.AddAlreadyLabeled();
                        continue;
                    }

                    await toFetch.Writer.WriteAsync(item, intake.Token).ConfigureAwait(false);
                }

                listingComplete = true;
                _status.ListingComplete = true;
            }
            catch (OperationCanceledException) when (stopIntake.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // SIGTERM: stop taking new work; everything already listed still flows through and is committed.
                _logger.LogWarning("Shutdown requested: listing stopped; finishing {InFlight} images in flight", _status.InFlight);
            }
        });
        run.Start("fetch", _options.FetchConcurrency, toDecode.Writer, async ct =>
        {
            await foreach (var item in toFetch.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var format = PackedFormats.Resolve(_options.InputFormat, item.Key);
                if (format == InputFormat.Loose)
                {
                    await toDecode.Writer.WriteAsync(await outage.FetchAsync(input, item, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
                }
                else if (!await packed.ReadAsync(input, item, format, toDecode.Writer, stopIntake, ct).ConfigureAwait(false))
                {
                    packedCut = true;
                }
            }
        });
        run.Start("decode", decodeWorkers, toLabel.Writer, async ct =>
        {
            var views = new ViewPreparer(_imageOptions, _options);
            await foreach (var item in toDecode.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var prepared = item.Error is not null ? PreparedImage.Failed(item.Info, item.Error) : views.Prepare(item.Info, item.Bytes!, item.Label);
                await toLabel.Writer.WriteAsync(prepared, ct).ConfigureAwait(false);
            }
        });
        var teacher = new TeacherBatcher(_teacher, _options.BatchSize, _topK, _imageOptions.Channels, _imageOptions.OutputSize, _status);
        run.Start("teacher", 1, results.Writer, ct => teacher.RunAsync(toLabel.Reader, results.Writer, ct));

        var outcome = LabelingOutcome.Completed;
        await foreach (var result in run.ReadAllAsync(results.Reader, CancellationToken.None).ConfigureAwait(false))
        {
            committer.Add(result, _thresholds.Confidence, _thresholds.Caps);
            _status.AddResult(result);
            if (_thresholds.ErrorLimitExceeded(committer.TotalErrors, committer.TotalImages))
            {
                outcome = LabelingOutcome.ErrorThresholdExceeded;
                _logger.LogError(
                    "Error threshold exceeded: {Errors} of {Images} images failed (Labeler:MaxErrors {MaxErrors}, Labeler:MaxErrorPercent {MaxPercent}); committing and stopping",
                    committer.TotalErrors, committer.TotalImages, _options.MaxErrors, _options.MaxErrorPercent);
                break;
            }

            if (committer.ShouldCommit)
            {
                await outage.CommitAsync(committer, output).ConfigureAwait(false);
            }
        }

        // Commit even when stopping or over the threshold: what is labeled stays labeled.
        await outage.CommitAsync(committer, output).ConfigureAwait(false);
        if (outcome == LabelingOutcome.Completed && (!listingComplete || packedCut))
        {
            outcome = LabelingOutcome.Interrupted;
        }

        return outcome;
    }
}
