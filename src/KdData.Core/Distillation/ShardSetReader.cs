using KdData.Hosting;
using KdData.Models;
using KdData.SoftTargets;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Distillation;

/// <summary>
/// Loads committed soft-target shard sets (the Labeler's output) for offline distillation: reads every
/// partition manifest, then only the shard files the manifests commit (anything else is a killed run's
/// leftover), checks every shard against the student, keeps the latest labeling of each image and applies
/// the <see cref="ShardSelectionOptions"/> rules. Every problem with the input stops the load with an
/// <see cref="InvalidInputException"/> (exit 2) that names the file.
/// </summary>
/// <remarks>
/// <para><b>Latest commit wins.</b> An image is identified by its image root (the store its key is relative
/// to) and key. The Labeler labels an image again when its ETag changes or after an <c>unreadable</c> error,
/// so one image can appear in several commits; only the rows of its latest commit count, all of them (every
/// view, accepted and rejected), and nothing else of that image. Commits are ordered by <c>committed_at</c>;
/// within one partition manifest the sequence number decides (a commit's time is taken as at least that
/// of the partition's previous commit, so a clock that stepped back cannot reorder them); ties between
/// manifests are broken by the order of <see cref="ShardSelectionOptions.Locations"/>, then partition index,
/// then sequence. An error row in the latest commit means the image has no soft target (its older rows
/// are dropped as superseded: they describe content that was replaced).</para>
/// <para><b>Checks</b>, each naming the file: a manifest that is not JSON or names a missing file; a shard that
/// is not Parquet or lacks the soft-target columns or the Labeler's footer; a footer whose class names differ
/// from the student's (same names, same order) or whose preprocessing (size, channels, mean, std) differs from
/// the expected one; shards of one set that disagree on the teacher id (or with the <c>teacher=&lt;id&gt;</c>
/// folder); a location with no committed rows.</para>
/// </remarks>
public sealed class ShardSetReader
{
    /// <summary>What to run when there is nothing to distil from.</summary>
    public const string LabelerCommand = "dotnet run --project src/Labeler";

    private readonly ObjectStoreFactory _stores;
    private readonly ShardSelectionOptions _options;
    private readonly ILogger _logger;

    /// <param name="stores">Opens the shard locations and the image roots.</param>
    /// <param name="options">Which sets and which rows.</param>
    /// <param name="logger">Receives one line per set and the selection table.</param>
    public ShardSetReader(ObjectStoreFactory stores, ShardSelectionOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(options);
        _stores = stores;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Reads, checks and selects.</summary>
    /// <param name="classes">The student's class names, in output order; every shard must have exactly these.</param>
    /// <param name="preprocessing">The student's input preprocessing (width = height = footer size, channels,
    /// mean, std); null to skip that check (e.g. when only the soft targets are of interest).</param>
    /// <param name="cancellationToken">Stops the load.</param>
    /// <exception cref="InvalidInputException">A shard set is missing, empty, malformed or does not fit the student,
    /// a per-class setting names an unknown class, or the rules keep no row.</exception>
    public async Task<PseudoLabelSet> ReadAsync(IReadOnlyList<string> classes, PreprocessingRecord? preprocessing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 0)
        {
            throw new ArgumentException("The student has no classes.", nameof(classes));
        }

        var selection = new RowSelection(_options, classes);
        var sets = new List<ShardSetState>();
        foreach (var location in _options.EffectiveLocations)
        {
            sets.Add(await OpenSetAsync(location, sets.Count, cancellationToken).ConfigureAwait(false));
        }

        var files = sets
            .SelectMany(s => s.Commits)
            .OrderBy(c => c.Time)
            .ThenBy(c => c.Set.Index)
            .ThenBy(c => c.Partition)
            .ThenBy(c => c.Commit.Sequence)
            .SelectMany((c, rank) => FilesOf(c, rank))
            .ToList();

        var expectedRows = sets.SelectMany(s => s.Commits).Sum(c => (long)c.Commit.AcceptedRows + c.Commit.RejectedRows);
        // A presize only (the arrays grow past it), capped at 1M rows (~60 MB of row columns) so a damaged manifest's
        // count cannot allocate gigabytes up front.
        var load = new ShardLoadState(
            classes, new ShardFooterCheck(classes, preprocessing), new ImageSourceIndex(_stores, _options), (int)Math.Clamp(expectedRows, 0, 1 << 20));
        await foreach (var file in ShardFileDownloads.DownloadAsync(files, cancellationToken).ConfigureAwait(false))
        {
            await ParseIntoAsync(file, load, cancellationToken).ConfigureAwait(false);
        }

        foreach (var set in sets)
        {
            if (set.Rows == 0)
            {
                throw new InvalidInputException(
                    $"Shard set '{set.Display}' has no committed soft-target rows ({set.Manifests} manifests, {set.Commits.Count} commits, only errors or nothing). " +
                    $"Label images into it first: {LabelerCommand}");
            }

            _logger.LogInformation(
                "Shard set {Location}: teacher {Teacher}, {Manifests} manifests, {Commits} commits, {Files} files, {Rows} rows",
                set.Display, set.Footer?.TeacherId, set.Manifests, set.Commits.Count, set.Files, set.Rows);
        }

        var (latest, superseded, errorImages) = load.Latest();
        var (kept, report) = selection.Apply(load.Rows, latest, superseded, errorImages);
        _logger.LogInformation(
            "Pseudo-label selection (latest commit per image; rejected rows {Rejected}; min confidence {MinConfidence}; cap {Cap}); {ErrorImages} images in error:{NewLine}{Table}",
            _options.IncludeRejected ? "included" : "excluded", _options.MinConfidence, _options.ClassCap, errorImages, Environment.NewLine, report.ToTable());
        if (kept.Count == 0)
        {
            throw new InvalidInputException(
                $"No pseudo-labeled row passes the selection rules of {ShardSelectionOptions.SectionName} (thresholds or caps too strict):{Environment.NewLine}{report.ToTable()}");
        }

        return new PseudoLabelSet(classes, kept, load.Sources, [.. sets.Select(s => s.ToInfo())], report);
    }

    private static IEnumerable<CommittedShardFile> FilesOf(ShardSetCommit commit, int rank)
    {
        if (commit.Commit.Accepted is { } accepted)
        {
            yield return new CommittedShardFile(commit, accepted, ShardFileKind.Accepted, rank);
        }

        if (commit.Commit.Rejected is { } rejected)
        {
            yield return new CommittedShardFile(commit, rejected, ShardFileKind.Rejected, rank);
        }

        if (commit.Commit.Errors is { } errors)
        {
            yield return new CommittedShardFile(commit, errors, ShardFileKind.Errors, rank);
        }
    }

    private async Task<ShardSetState> OpenSetAsync(string location, int index, CancellationToken cancellationToken)
    {
        IObjectStore store;
        try
        {
            store = _stores.Open(location);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"{ShardSelectionOptions.SectionName}:Locations: {e.Message}", e);
        }

        var root = store.Location.ToString();
        try
        {
            return await ShardSetState.OpenAsync(store, root, index, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreNotFoundException e)
        {
            // No folder or container at all: the Labeler has not written there yet.
            throw new InvalidInputException(
                $"No committed soft-target shards at '{root}' ({e.Message}). " +
                $"Label the unlabeled images first: {LabelerCommand} (it writes to {ShardSelectionOptions.DefaultLocation}), or set {ShardSelectionOptions.SectionName}:Locations.", e);
        }
    }

    /// <summary>Parses one downloaded file into <paramref name="load"/>, one row group at a time.</summary>
    private static async Task ParseIntoAsync(DownloadedShardFile file, ShardLoadState load, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(file.Bytes, writable: false);
        if (file.Ref.Kind == ShardFileKind.Errors)
        {
            var errors = await ReadShardAsync(file, () => ErrorShard.OpenReaderAsync(stream, cancellationToken)).ConfigureAwait(false);
            await using (errors.ConfigureAwait(false))
            {
                var errorSource = load.BeginErrors(file, errors.Metadata);
                for (var group = 0; group < errors.RowGroupCount; group++)
                {
                    var index = group;
                    load.AddErrors(file, errorSource, await ReadShardAsync(file, () => errors.ReadRowGroupAsync(index, cancellationToken)).ConfigureAwait(false));
                }
            }

            return;
        }

        var shard = await ReadShardAsync(file, () => SoftTargetShard.OpenReaderAsync(stream, cancellationToken)).ConfigureAwait(false);
        await using (shard.ConfigureAwait(false))
        {
            var source = load.BeginRows(file, shard.Metadata);
            for (var group = 0; group < shard.RowGroupCount; group++)
            {
                var index = group;
                load.AddRows(file, source, await ReadShardAsync(file, () => shard.ReadRowGroupAsync(index, cancellationToken)).ConfigureAwait(false));
            }
        }
    }

    /// <summary>
    /// Runs one Parquet read of <paramref name="file"/>, turning a failure into an <see cref="InvalidInputException"/> that
    /// names it. Only the reads: a failure of the checks or of the row store is not the file's fault.
    /// </summary>
    private static async Task<T> ReadShardAsync<T>(DownloadedShardFile file, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            // Parquet.Net reports damaged files with several exception types; any of them means the same here.
            var kind = file.Ref.Kind == ShardFileKind.Errors ? "error-table" : "soft-target";
            throw new InvalidInputException($"Shard '{file.Name}' (committed by '{file.Ref.Commit.Manifest}') is not a readable {kind} shard: {e.Message}", e);
        }
    }
}
