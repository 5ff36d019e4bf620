using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using KdData.Imaging;
using KdData.Models;
using KdData.Pipelines;
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
/// </summary>
public sealed class LabelingRun
{
    /// <summary>Version recorded in shard footers.</summary>
    public const string Version = "1";

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);

    /// <summary>Error reason of an image whose bytes could not be read after retries; retried by the next run.</summary>
    public const string UnreadableReason = "unreadable";

    private readonly ObjectStoreFactory _stores;
    private readonly InferenceModel _teacher;
    private readonly LabelingOptions _options;
    private readonly int _partition;
    private readonly int _partitionCount;
    private readonly ImageOptions _imageOptions;
    private readonly ILogger _logger;
    private readonly LabelingStatus _status = new();
    private readonly int _topK;
    private readonly float[] _classThresholds;
    private readonly int[] _classCaps;

    /// <param name="stores">Opens input and output.</param>
    /// <param name="teacher">The loaded teacher; its record's preprocessing is applied to every image.</param>
    /// <param name="options">Labeler settings.</param>
    /// <param name="partition">Which share of the keys to label.</param>
    /// <param name="imageLimits">Decoding limits and resize mode (size, channels, mean and std come from the teacher).</param>
    /// <param name="logger">Progress and warnings.</param>
    public LabelingRun(ObjectStoreFactory stores, InferenceModel teacher, LabelingOptions options, PartitionOptions partition, ImageOptions imageLimits, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(partition);
        ArgumentNullException.ThrowIfNull(imageLimits);
        _stores = stores;
        _teacher = teacher;
        _options = options;
        _partition = partition.EffectiveIndex;
        _partitionCount = partition.Count;
        _logger = logger ?? NullLogger.Instance;
        var pre = teacher.Record.Preprocessing
            ?? throw new InvalidDataException($"Teacher checkpoint '{teacher.Source}' records no preprocessing; the Labeler cannot know how the teacher saw its inputs.");
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
        _classThresholds = ResolvePerClass(options.ClassThresholds, classes, (float)options.MinConfidence, v => (float)v, "ClassThresholds");
        _classCaps = ResolvePerClass(options.ClassCaps, classes, int.MaxValue, v => v, "ClassCaps");
    }

    /// <summary>Live counters for progress reporting.</summary>
    public LabelingStatus Status => _status;

    /// <summary>The folder (relative to the output location) this teacher writes to.</summary>
    public string TeacherFolder => $"teacher={_teacher.Id}/";

    private string PartitionTag => string.Create(CultureInfo.InvariantCulture, $"{_partition:D4}of{_partitionCount:D4}");

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
        var manifestKey = $"{TeacherFolder}_manifests/partition-{PartitionTag}.json";

        // Start-up (waiting for the lease, cleaning up, reading what is done) has nothing to commit,
        // so a shutdown request stops it at once.
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(stopIntake, abort);
        var lease = new PartitionLease(await AcquireLeaseAsync(output, startup.Token).ConfigureAwait(false), LeaseDuration);
        using var leaseStop = CancellationTokenSource.CreateLinkedTokenSource(abort);
        var run = new PipelineRun(abort);
        await using var runScope = run.ConfigureAwait(false);
        var renewal = RenewLeaseAsync(output, lease, run, leaseStop.Token);
        try
        {
            var (manifest, manifestETag) = await ReadManifestAsync(output, manifestKey, startup.Token).ConfigureAwait(false);
            await DeleteUncommittedFilesAsync(output, manifest, startup.Token).ConfigureAwait(false);
            var done = await LoadDoneSetAsync(output, startup.Token).ConfigureAwait(false);
            _logger.LogInformation(
                "Labeling {Input} partition {Partition}/{Count} with teacher {Teacher} into {Output}{Folder}; {Done} images already labeled by this teacher",
                input.Location, _partition, _partitionCount, _teacher.Id, output.Location, TeacherFolder, done.Count);

            var committer = new ShardCommitter(output, TeacherFolder, PartitionTag, manifestKey, manifest, manifestETag, Metadata(input), _options, lease);
            var outcome = await PipelineAsync(input, run, done, committer, stopIntake).ConfigureAwait(false);
            var summary = Summarise(input, output, startedAt, clock.Elapsed, outcome, committer);
            await WriteSummaryAsync(output, summary, abort).ConfigureAwait(false);
            return summary;
        }
        finally
        {
            await leaseStop.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
            try
            {
                await output.ReleaseLeaseAsync(lease.Current, CancellationToken.None).ConfigureAwait(false);
            }
            catch (ObjectStoreException e)
            {
                _logger.LogWarning("Could not release the partition lease ({Message}); it expires by itself in {Seconds} s", e.Message, LeaseDuration.TotalSeconds);
            }
        }
    }

    private async Task<LabelingOutcome> PipelineAsync(IObjectStore input, PipelineRun run, HashSet<(string Key, string ETag)> done, ShardCommitter committer, CancellationToken stopIntake)
    {
        var capacity = _options.ChannelCapacity;
        var toFetch = Channel.CreateBounded<ObjectInfo>(new BoundedChannelOptions(capacity) { SingleWriter = true });
        var toDecode = Channel.CreateBounded<Fetched>(capacity);
        var toLabel = Channel.CreateBounded<Prepared>(new BoundedChannelOptions(capacity) { SingleReader = true });
        var results = Channel.CreateBounded<ImageResult>(new BoundedChannelOptions(capacity) { SingleReader = true });
        _status.Attach(toFetch.Reader, toDecode.Reader, toLabel.Reader, results.Reader);
        var decodeWorkers = _options.DecodeWorkers > 0 ? _options.DecodeWorkers : Environment.ProcessorCount;
        var listingComplete = false;

        run.Start("list", 1, toFetch.Writer, async ct =>
        {
            using var intake = CancellationTokenSource.CreateLinkedTokenSource(ct, stopIntake);
            try
            {
                await foreach (var item in input.ListAllAsync(string.Empty, _options.ListPageSize, intake.Token).ConfigureAwait(false))
                {
                    if (KeyPartitioner.PartitionOf(item.Key, _partitionCount) != _partition)
                    {
                        continue;
                    }

                    _status.AddListed();
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
                Fetched fetched;
                try
                {
                    fetched = new Fetched(item, await input.ReadAllBytesAsync(item.Key, ct).ConfigureAwait(false), null);
                }
                catch (ObjectNotFoundException)
                {
                    fetched = new Fetched(item, null, Error(item, "fetch", "missing", "listed but gone before it was read"));
                }
                catch (StorageOperationException e)
                {
                    // Already retried by the resilience pipeline: record it and go on.
                    fetched = new Fetched(item, null, Error(item, "fetch", UnreadableReason, e.Message));
                }

                await toDecode.Writer.WriteAsync(fetched, ct).ConfigureAwait(false);
            }
        });
        run.Start("decode", decodeWorkers, toLabel.Writer, async ct =>
        {
            var decoder = new ImageDecoder(_imageOptions);
            var preprocessor = new ImagePreprocessor(_imageOptions);
            var sampler = new RandomResizedCropSampler(scaleMin: _options.ViewScaleMin);
            await foreach (var item in toDecode.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var prepared = item.Error is not null
                    ? new Prepared(item.Info, [], [], item.Error)
                    : Prepare(decoder, preprocessor, sampler, item.Info, item.Bytes!);
                await toLabel.Writer.WriteAsync(prepared, ct).ConfigureAwait(false);
            }
        });
        run.Start("teacher", 1, results.Writer, ct => LabelAsync(toLabel.Reader, results.Writer, ct));

        var outcome = LabelingOutcome.Completed;
        await foreach (var result in run.ReadAllAsync(results.Reader, CancellationToken.None).ConfigureAwait(false))
        {
            committer.Add(result, _classThresholds, _classCaps);
            _status.AddResult(result);
            if (ErrorThresholdExceeded(committer))
            {
                outcome = LabelingOutcome.ErrorThresholdExceeded;
                _logger.LogError(
                    "Error threshold exceeded: {Errors} of {Images} images failed (Labeler:MaxErrors {MaxErrors}, Labeler:MaxErrorPercent {MaxPercent}); committing and stopping",
                    committer.TotalErrors, committer.TotalImages, _options.MaxErrors, _options.MaxErrorPercent);
                break;
            }

            if (committer.ShouldCommit)
            {
                await committer.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        // Commit even when stopping or over the threshold: what is labeled stays labeled.
        await committer.CommitAsync(CancellationToken.None).ConfigureAwait(false);
        if (outcome == LabelingOutcome.Completed && !listingComplete)
        {
            outcome = LabelingOutcome.Interrupted;
        }

        return outcome;
    }

    private Prepared Prepare(ImageDecoder decoder, ImagePreprocessor preprocessor, RandomResizedCropSampler sampler, ObjectInfo info, byte[] bytes)
    {
        try
        {
            using var image = decoder.Decode(bytes, info.Key);
            var views = _options.ViewsPerImage;
            var crops = new CropDecision[views];
            var pixels = new float[views][];
            for (var v = 0; v < views; v++)
            {
                crops[v] = views == 1
                    ? new CropDecision(DefaultCrop(image.Width, image.Height), false)
                    : sampler.Sample(image.Width, image.Height, RandomResizedCropSampler.DeriveSeed(_options.ViewSeed, info.Key, v));
                pixels[v] = preprocessor.Preprocess(image, crops[v].Box, crops[v].FlipHorizontal);
            }

            return new Prepared(info, crops, pixels, null);
        }
        catch (ImageDecodeException e)
        {
            return new Prepared(info, [], [], Error(info, "decode", e.Reason, e.Detail));
        }
    }

    /// <summary>The region the teacher sees with one view: the centred square for shorter-side resizing, else the whole image.</summary>
    private CropBox DefaultCrop(int width, int height)
    {
        if (_imageOptions.ResizeMode != ResizeMode.ShorterSideCenterCrop)
        {
            return new CropBox(0, 0, width, height);
        }

        var side = Math.Min(width, height);
        return new CropBox((width - side) / 2, (height - side) / 2, side, side);
    }

    private async Task LabelAsync(ChannelReader<Prepared> input, ChannelWriter<ImageResult> output, CancellationToken cancellationToken)
    {
        var channels = _imageOptions.Channels;
        var size = _imageOptions.OutputSize;
        var viewLength = channels * size * size;
        var classes = _teacher.ClassCount;
        var batchSize = _options.BatchSize;
        // Images waiting for (some of) their views' soft targets, in arrival order.
        var pending = new Queue<(Prepared Image, SoftTarget[] Targets)>();
        var batch = new List<(SoftTarget[] Targets, int View, float[] Pixels)>(batchSize);

        async Task RunBatchAsync()
        {
            if (batch.Count > 0)
            {
                var flat = new float[batch.Count * viewLength];
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Pixels.CopyTo(flat, i * viewLength);
                }

                var started = Stopwatch.GetTimestamp();
                // Synchronous on this thread: inference mode and the dispose scope never span an await.
                var logits = _teacher.Forward(flat, batch.Count, channels, size, size);
                var elapsed = Stopwatch.GetElapsedTime(started);
                _status.AddInference(elapsed);
                LabelerMetrics.BatchSeconds.Record(elapsed.TotalSeconds);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Targets[batch[i].View] = SoftTarget.FromLogits(logits.AsSpan(i * classes, classes), _topK);
                }

                batch.Clear();
            }

            while (pending.Count > 0 && Array.TrueForAll(pending.Peek().Targets, t => t is not null))
            {
                var (image, targets) = pending.Dequeue();
                var rows = image.Error is not null
                    ? []
                    : targets.Select((t, v) => new SoftTargetRow(image.Info.Key, image.Info.ETag, image.Info.Size, v, image.Crops[v], t)).ToArray();
                await output.WriteAsync(new ImageResult(image.Info, rows, image.Error), cancellationToken).ConfigureAwait(false);
            }
        }

        await foreach (var image in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var targets = new SoftTarget[image.Pixels.Length];
            pending.Enqueue((image, targets));
            for (var v = 0; v < image.Pixels.Length; v++)
            {
                batch.Add((targets, v, image.Pixels[v]));
                if (batch.Count == batchSize)
                {
                    await RunBatchAsync().ConfigureAwait(false);
                }
            }

            if (batch.Count == 0)
            {
                // Nothing waits on the teacher: pass finished images (e.g. errors) on without delay.
                await RunBatchAsync().ConfigureAwait(false);
            }
        }

        await RunBatchAsync().ConfigureAwait(false);
        Debug.Assert(pending.Count == 0, "every image must leave the teacher stage");
    }

    private bool ErrorThresholdExceeded(ShardCommitter committer)
    {
        var errors = committer.TotalErrors;
        if (_options.MaxErrors >= 0 && errors > _options.MaxErrors)
        {
            return true;
        }

        var images = committer.TotalImages;
        return images >= _options.ErrorPercentMinImages && errors * 100.0 / images > _options.MaxErrorPercent;
    }

    private async Task<(PartitionManifest Manifest, string? ETag)> ReadManifestAsync(IObjectStore output, string key, CancellationToken cancellationToken)
    {
        try
        {
            var info = await output.GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
            var bytes = await output.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
            var manifest = PartitionManifest.Parse(bytes, key);
            // The ETag read with the properties may be older than the bytes; a replace with it fails safely.
            return (manifest, info.ETag);
        }
        catch (ObjectNotFoundException)
        {
            return (new PartitionManifest { Teacher = _teacher.Id, Partition = _partition, PartitionCount = _partitionCount }, null);
        }
    }

    private async Task DeleteUncommittedFilesAsync(IObjectStore output, PartitionManifest manifest, CancellationToken cancellationToken)
    {
        var committed = manifest.Commits.SelectMany(c => c.Files).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in new[] { string.Empty, "rejected/", "errors/" })
        {
            var prefix = $"{TeacherFolder}{folder}part-{PartitionTag}-";
            var orphans = new List<string>();
            await foreach (var item in output.ListAllAsync(prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!committed.Contains(item.Key[TeacherFolder.Length..]))
                {
                    orphans.Add(item.Key);
                }
            }

            foreach (var key in orphans)
            {
                // Written by a run that was killed before its commit: never visible, safe to drop (we hold the lease).
                _logger.LogInformation("Deleting uncommitted shard {Key} left by an interrupted run", key);
                await output.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<HashSet<(string Key, string ETag)>> LoadDoneSetAsync(IObjectStore output, CancellationToken cancellationToken)
    {
        // Every partition's commits count: a key labeled under another partition count is not labeled again.
        var done = new HashSet<(string, string)>();
        await foreach (var item in output.ListAllAsync($"{TeacherFolder}_manifests/", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var manifest = PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key, cancellationToken).ConfigureAwait(false), item.Key);
            foreach (var commit in manifest.Commits)
            {
                foreach (var file in new[] { commit.Accepted, commit.Rejected }.OfType<string>())
                {
                    await foreach (var row in ReadRowsAsync<SoftTargetRow>(output, file, SoftTargetShard.OpenReaderAsync, cancellationToken).ConfigureAwait(false))
                    {
                        done.Add((row.Key, row.ETag));
                    }
                }

                if (commit.Errors is { } errors)
                {
                    await foreach (var row in ReadRowsAsync<ErrorRow>(output, errors, ErrorShard.OpenReaderAsync, cancellationToken).ConfigureAwait(false))
                    {
                        // A storage failure says nothing about the image: try it again next run (its new
                        // row then supersedes this error; see README "Exactly once").
                        if (row.Reason != UnreadableReason)
                        {
                            done.Add((row.Key, row.ETag));
                        }
                    }
                }
            }
        }

        return done;
    }

    private async IAsyncEnumerable<TRow> ReadRowsAsync<TRow>(
        IObjectStore output,
        string file,
        Func<Stream, CancellationToken, Task<ShardReader<TRow>>> open,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(await output.ReadAllBytesAsync(TeacherFolder + file, cancellationToken).ConfigureAwait(false), writable: false);
        var reader = await open(stream, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await foreach (var row in reader.ReadRowsAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }

    private async Task<ObjectLease> AcquireLeaseAsync(IObjectStore output, CancellationToken cancellationToken)
    {
        var key = $"{TeacherFolder}_leases/partition-{PartitionTag}";
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (await output.TryAcquireLeaseAsync(key, LeaseDuration, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return lease;
            }

            // Held: by a live replica, or by one that was killed and whose lease has not expired yet.
            if (waited.Elapsed >= _options.LeaseWait)
            {
                throw new InvalidOperationException(
                    $"Partition {PartitionTag} of teacher {_teacher.Id} in {output.Location} is being labeled by another replica (its lease is still held after {_options.LeaseWait.TotalSeconds:F0} s).");
            }

            if (waited.Elapsed < TimeSpan.FromSeconds(1))
            {
                _logger.LogWarning("Partition {Partition}'s lease is held; waiting up to {Seconds:F0} s for it", PartitionTag, _options.LeaseWait.TotalSeconds);
            }

            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RenewLeaseAsync(IObjectStore output, PartitionLease lease, PipelineRun run, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LeaseDuration / 3, cancellationToken).ConfigureAwait(false);
                var requestedAt = Stopwatch.GetTimestamp();
                lease.Renewed(await output.RenewLeaseAsync(lease.Current, cancellationToken).ConfigureAwait(false), requestedAt);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (ObjectStoreException e)
        {
            // Without the lease another replica may take the partition: stop before committing anything more.
            run.RecordFault("lease", e);
        }
    }

    private Dictionary<string, string> Metadata(IObjectStore input)
    {
        var record = _teacher.Record;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kddata.labeler_version"] = Version,
            // Where the keys are relative to (no credentials), so a trainer can fetch the images the teacher saw.
            ["kddata.input"] = input.Location.ToString(),
            ["kddata.teacher"] = JsonSerializer.Serialize(new
            {
                id = _teacher.Id,
                architecture = record.Architecture,
                weights_sha256 = record.WeightsSha256,
                classes = record.Classes,
                source = _teacher.Source,
            }),
            ["kddata.preprocessing"] = JsonSerializer.Serialize(new
            {
                size = _imageOptions.OutputSize,
                channels = _imageOptions.Channels,
                mean = _imageOptions.Mean,
                std = _imageOptions.Std,
                resize_mode = _imageOptions.ResizeMode.ToString(),
                views_per_image = _options.ViewsPerImage,
                view_seed = _options.ViewSeed,
                view_scale_min = _options.ViewScaleMin,
            }),
            ["kddata.temperature"] = "1",
            ["kddata.top_k"] = _topK.ToString(CultureInfo.InvariantCulture),
            ["kddata.thresholds"] = JsonSerializer.Serialize(new { min_confidence = _options.MinConfidence, per_class = _classThresholds, caps = _options.ClassCaps }),
            ["kddata.partition"] = string.Create(CultureInfo.InvariantCulture, $"{_partition}/{_partitionCount}"),
        };
    }

    private LabelingSummary Summarise(IObjectStore input, IObjectStore output, DateTimeOffset startedAt, TimeSpan elapsed, LabelingOutcome outcome, ShardCommitter committer) => new()
    {
        Teacher = _teacher.Id,
        TeacherSource = _teacher.Source,
        Input = input.Location.ToString(),
        Output = output.Location + TeacherFolder,
        Partition = _partition,
        PartitionCount = _partitionCount,
        Outcome = outcome,
        StartedAt = startedAt,
        Listed = _status.Listed,
        AlreadyLabeled = _status.AlreadyLabeled,
        Images = committer.CommittedImages,
        AcceptedViews = committer.CommittedAccepted,
        RejectedViews = committer.CommittedRejected,
        Errors = committer.CommittedErrors,
        ErrorsByReason = committer.ErrorsByReason,
        Commits = committer.Commits,
        Seconds = elapsed.TotalSeconds,
        InferenceSeconds = _status.InferenceTime.TotalSeconds,
        ImagesPerSecond = elapsed.TotalSeconds > 0 ? committer.CommittedImages / elapsed.TotalSeconds : 0,
        ShardBytes = committer.Bytes,
    };

    private async Task WriteSummaryAsync(IObjectStore output, LabelingSummary summary, CancellationToken cancellationToken)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{TeacherFolder}_runs/{summary.StartedAt:yyyyMMdd'T'HHmmss'Z'}-{PartitionTag}-{Guid.NewGuid():N}.json");
        try
        {
            await output.CreateAsync(key, JsonSerializer.SerializeToUtf8Bytes(summary, IndentedJson), cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectAlreadyExistsException)
        {
            // The name is unique to this run (a fresh GUID): only our own retried write, whose first
            // response was lost, can have created it.
        }
    }

    private static ErrorRow Error(ObjectInfo info, string stage, string reason, string detail) =>
        new(info.Key, info.ETag, info.Size, stage, reason, detail, null);

    private T[] ResolvePerClass<TValue, T>(Dictionary<string, TValue> settings, int classes, T fallback, Func<TValue, T> convert, string setting)
    {
        var values = Enumerable.Repeat(fallback, classes).ToArray();
        var names = _teacher.Record.Classes;
        foreach (var (name, value) in settings)
        {
            var index = names.ToList().IndexOf(name);
            if (index < 0 && (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out index) || index >= classes))
            {
                throw new ArgumentException($"Labeler:{setting}:{name} names no class of teacher {_teacher.Id} (classes: {string.Join(", ", names)}).");
            }

            values[index] = convert(value);
        }

        return values;
    }

    internal sealed record Fetched(ObjectInfo Info, byte[]? Bytes, ErrorRow? Error);

    internal sealed record Prepared(ObjectInfo Info, CropDecision[] Crops, float[][] Pixels, ErrorRow? Error);
}
