using System.Diagnostics;
using System.Globalization;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>
/// Buffers finished images and commits them: shard files first (create-only), then the partition
/// manifest (replace-if-unchanged). Until the manifest names a file, the file does not count.
/// The commit interval and each commit's time are read from the <see cref="TimeProvider"/> it is given.
/// Used by one thread (the run's consumer).
/// </summary>
internal sealed class ShardCommitter
{
    private readonly IObjectStore _output;
    private readonly string _folder;
    private readonly string _tag;
    private readonly string _manifestKey;
    private readonly IReadOnlyDictionary<string, string> _metadata;
    private readonly LabelingOptions _options;
    private readonly List<SoftTargetRow> _accepted = [];
    private readonly List<SoftTargetRow> _rejected = [];
    private readonly List<ErrorRow> _errors = [];
    private readonly Dictionary<int, int> _acceptedPerClass = [];
    private readonly Dictionary<string, long> _errorsByReason = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly PartitionLease _lease;
    private long _lastCommit;
    private PartitionManifest _manifest;
    private string? _manifestETag;
    private int _pendingImages;
    private PartitionCommit? _retried;

    public ShardCommitter(IObjectStore output, string teacherFolder, string partitionTag, string manifestKey, PartitionManifest manifest, string? manifestETag, IReadOnlyDictionary<string, string> metadata, LabelingOptions options, PartitionLease lease, TimeProvider time)
    {
        _time = time;
        _lastCommit = time.GetTimestamp();
        _lease = lease;
        _output = output;
        _folder = teacherFolder;
        _tag = partitionTag;
        _manifestKey = manifestKey;
        _manifest = manifest;
        _manifestETag = manifestETag;
        _metadata = metadata;
        _options = options;
    }

    /// <summary>Images added in this run (committed or pending).</summary>
    public long TotalImages { get; private set; }

    /// <summary>Failed images added in this run.</summary>
    public long TotalErrors { get; private set; }

    public long CommittedImages { get; private set; }

    public long CommittedAccepted { get; private set; }

    public long CommittedRejected { get; private set; }

    public long CommittedErrors { get; private set; }

    public int Commits { get; private set; }

    public long Bytes { get; private set; }

    public IReadOnlyDictionary<string, long> ErrorsByReason => _errorsByReason;

    /// <summary>True when a shard is full or the commit interval has passed with work pending.</summary>
    public bool ShouldCommit =>
        _pendingImages > 0 &&
        (_accepted.Count >= _options.MaxRowsPerShard || _rejected.Count >= _options.MaxRowsPerShard ||
         _errors.Count >= _options.MaxRowsPerShard || _time.GetElapsedTime(_lastCommit) >= _options.CommitInterval);

    /// <summary>Adds a finished image: each view to accepted or rejected, or the image to errors.</summary>
    public void Add(ImageResult result, float[] thresholds, int[] caps)
    {
        TotalImages++;
        _pendingImages++;
        if (result.Error is { } error)
        {
            TotalErrors++;
            _errors.Add(error);
            _errorsByReason[error.Reason] = _errorsByReason.GetValueOrDefault(error.Reason) + 1;
            LabelerMetrics.Errors.Add(1, new KeyValuePair<string, object?>("reason", error.Reason));
            return;
        }

        Debug.Assert(result.Views.Length > 0, "a labeled image has at least one view");
        foreach (var row in result.Views)
        {
            var predicted = row.Target.Predicted;
            var accepted = _acceptedPerClass.GetValueOrDefault(predicted);
            if (row.Target.Confidence >= thresholds[predicted] && accepted < caps[predicted])
            {
                _acceptedPerClass[predicted] = accepted + 1;
                _accepted.Add(row);
            }
            else
            {
                _rejected.Add(row);
            }
        }
    }

    /// <summary>Writes the pending shards and records them in the manifest; does nothing when nothing is pending.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_pendingImages == 0)
        {
            return;
        }

        var sequence = _manifest.NextSequence;
        var name = string.Create(CultureInfo.InvariantCulture, $"part-{_tag}-{sequence:D6}.parquet");
        var accepted = _accepted.Count > 0 ? name : null;
        var rejected = _rejected.Count > 0 ? "rejected/" + name : null;
        var errors = _errors.Count > 0 ? "errors/" + name : null;
        // Counted once the commit succeeds: a commit interrupted by a storage outage is repeated.
        long written = 0;
        if (accepted is not null)
        {
            written += await WriteAsync(accepted, stream => SoftTargetShard.CreateWriterAsync(stream, _metadata, ShardOptionsFor(_accepted.Count), cancellationToken), _accepted, cancellationToken).ConfigureAwait(false);
        }

        if (rejected is not null)
        {
            written += await WriteAsync(rejected, stream => SoftTargetShard.CreateWriterAsync(stream, _metadata, ShardOptionsFor(_rejected.Count), cancellationToken), _rejected, cancellationToken).ConfigureAwait(false);
        }

        if (errors is not null)
        {
            written += await WriteAsync(errors, stream => ErrorShard.CreateWriterAsync(stream, _metadata, ShardOptionsFor(_errors.Count), cancellationToken), _errors, cancellationToken).ConfigureAwait(false);
        }

        // A commit repeated after a storage outage writes the manifest it tried the first time, byte for byte: that first
        // write may have gone through with its answer lost, and only the same bytes confirm it (CommittedAt included).
        var commit = _retried?.Sequence == sequence ? _retried : new PartitionCommit
        {
            Sequence = sequence,
            CommittedAt = _time.GetUtcNow(),
            Accepted = accepted,
            Rejected = rejected,
            Errors = errors,
            AcceptedRows = _accepted.Count,
            RejectedRows = _rejected.Count,
            ErrorRows = _errors.Count,
            Images = _pendingImages,
        };
        _retried = commit;
        // Fencing: only a holder whose lease is safely valid may make files count; otherwise another
        // replica may already own the partition (and delete these files as uncommitted).
        _lease.EnsureValidFor(TimeSpan.FromSeconds(10));
        var next = _manifest with { NextSequence = sequence + 1, Commits = [.. _manifest.Commits, commit] };
        var json = next.ToJson();
        // The commit point: after this the files count; before it they are invisible leftovers.
        ObjectInfo info;
        if (_manifestETag is null)
        {
            // A retried create whose first attempt went through finds the same bytes and succeeds; different bytes
            // mean someone else created the manifest, which the lease forbids, and fail the commit.
            info = await _output.CreateOrConfirmAsync(_manifestKey, json, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            try
            {
                info = await _output.ReplaceAsync(_manifestKey, json, _manifestETag, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectChangedException)
            {
                // A retried replace whose first attempt went through (its response was lost) finds the manifest
                // already changed: by itself, when it holds exactly our bytes. Anything else means someone else wrote it.
                // Should the content change after the comparison, the next replace with this ETag fails safely.
                var own = await _output.GetIfContentEqualsAsync(_manifestKey, json, cancellationToken).ConfigureAwait(false);
                if (own is null)
                {
                    throw;
                }

                info = own;
            }
        }

        _manifest = next;
        _manifestETag = info.ETag;
        _retried = null;

        Commits++;
        Bytes += written;
        CommittedImages += _pendingImages;
        CommittedAccepted += _accepted.Count;
        CommittedRejected += _rejected.Count;
        CommittedErrors += _errors.Count;
        LabelerMetrics.Commits.Add(1);
        LabelerMetrics.Images.Add(_pendingImages - _errors.Count, new KeyValuePair<string, object?>("outcome", "labeled"));
        LabelerMetrics.Images.Add(_errors.Count, new KeyValuePair<string, object?>("outcome", "error"));
        LabelerMetrics.Views.Add(_accepted.Count, new KeyValuePair<string, object?>("decision", "accepted"));
        LabelerMetrics.Views.Add(_rejected.Count, new KeyValuePair<string, object?>("decision", "rejected"));
        _accepted.Clear();
        _rejected.Clear();
        _errors.Clear();
        _pendingImages = 0;
        _lastCommit = _time.GetTimestamp();
    }

    private ShardOptions ShardOptionsFor(int rows) => new()
    {
        RowGroupSize = _options.RowGroupSize,
        MaxRowsPerShard = Math.Max(rows, 1),
    };

    private async Task<long> WriteAsync<TRow>(string file, Func<Stream, Task<ShardWriter<TRow>>> create, List<TRow> rows, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var writer = await create(buffer).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            await writer.WriteAsync(rows, cancellationToken).ConfigureAwait(false);
            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var bytes = buffer.ToArray();
        // Not in the manifest (uncommitted files are removed at start, and we hold the lease), so whatever is
        // there is our own write whose response was lost, or a leftover: confirm the first, replace the second.
        await _output.CreateOrReplaceLeftoverAsync(_folder + file, bytes, cancellationToken).ConfigureAwait(false);
        return bytes.Length;
    }
}
