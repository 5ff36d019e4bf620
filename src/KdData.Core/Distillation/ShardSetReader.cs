using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
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

    /// <summary>Shard files downloaded and parsed ahead of the one being checked (hides blob latency; bounds memory).</summary>
    private const int FilesInFlight = 4;

    private const float StatisticTolerance = 1e-6f;

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

    private enum FileKind
    {
        Accepted,
        Rejected,
        Errors,
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
        var sets = new List<SetState>();
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
        var load = new LoadState(classes, preprocessing, this, (int)Math.Clamp(expectedRows, 0, 1 << 20));
        await foreach (var file in DownloadFilesAsync(files, cancellationToken).ConfigureAwait(false))
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

    private static IEnumerable<FileRef> FilesOf(CommitRef commit, int rank)
    {
        if (commit.Commit.Accepted is { } accepted)
        {
            yield return new FileRef(commit, accepted, FileKind.Accepted, rank);
        }

        if (commit.Commit.Rejected is { } rejected)
        {
            yield return new FileRef(commit, rejected, FileKind.Rejected, rank);
        }

        if (commit.Commit.Errors is { } errors)
        {
            yield return new FileRef(commit, errors, FileKind.Errors, rank);
        }
    }

    private async Task<SetState> OpenSetAsync(string location, int index, CancellationToken cancellationToken)
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
            return await OpenSetAsync(store, root, index, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreNotFoundException e)
        {
            // No folder or container at all: the Labeler has not written there yet.
            throw new InvalidInputException(
                $"No committed soft-target shards at '{root}' ({e.Message}). " +
                $"Label the unlabeled images first: {LabelerCommand} (it writes to {ShardSelectionOptions.DefaultLocation}), or set {ShardSelectionOptions.SectionName}:Locations.", e);
        }
    }

    private static async Task<SetState> OpenSetAsync(IObjectStore store, string root, int index, CancellationToken cancellationToken)
    {
        string folder;
        if (await AnyAsync(store, "_manifests/", cancellationToken).ConfigureAwait(false))
        {
            folder = string.Empty;
        }
        else
        {
            var teachers = new SortedSet<string>(StringComparer.Ordinal);
            await foreach (var item in store.ListAllAsync("teacher=", cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var slash = item.Key.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0 && item.Key.AsSpan(slash + 1).StartsWith("_manifests/", StringComparison.Ordinal))
                {
                    teachers.Add(item.Key[..(slash + 1)]);
                }
            }

            if (teachers.Count == 0)
            {
                throw new InvalidInputException(
                    $"No committed soft-target shards at '{root}' (neither a _manifests/ folder nor a teacher=<id>/ folder holding one). " +
                    $"Label the unlabeled images first: {LabelerCommand} (it writes to {ShardSelectionOptions.DefaultLocation}), or set {ShardSelectionOptions.SectionName}:Locations.");
            }

            if (teachers.Count > 1)
            {
                throw new InvalidInputException(
                    $"'{root}' holds the shards of {teachers.Count} teachers ({string.Join(", ", teachers)}); name the one to distil from, " +
                    $"e.g. {ShardSelectionOptions.SectionName}:Locations:0={root}{teachers.Min}");
            }

            folder = teachers.Min!;
        }

        var set = new SetState(index, store, root, folder);
        var manifestKeys = new List<string>();
        await foreach (var item in store.ListAllAsync(folder + "_manifests/", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                manifestKeys.Add(item.Key);
            }
        }

        foreach (var key in manifestKeys)
        {
            var name = root + key;
            PartitionManifest manifest;
            try
            {
                manifest = PartitionManifest.Parse(await store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false), name);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
            {
                throw new InvalidInputException($"Partition manifest '{name}' is not a manifest the Labeler writes: {e.Message}", e);
            }
            catch (ObjectNotFoundException)
            {
                // Listed, then gone: not a committed state of anything.
                continue;
            }

            set.Manifests++;
            var time = DateTimeOffset.MinValue;
            foreach (var commit in manifest.Commits.OrderBy(c => c.Sequence))
            {
                time = commit.CommittedAt > time ? commit.CommittedAt : time;
                set.Commits.Add(new CommitRef(set, name, manifest.Partition, commit, time));
            }
        }

        if (set.Manifests == 0)
        {
            throw new InvalidInputException(
                $"No partition manifest under '{set.Display}_manifests/': nothing there was committed. Label the unlabeled images first: {LabelerCommand}");
        }

        return set;
    }

    private static async Task<bool> AnyAsync(IObjectStore store, string prefix, CancellationToken cancellationToken)
    {
        var page = await store.ListAsync(prefix, 1, null, cancellationToken).ConfigureAwait(false);
        return page.Items.Count > 0 || page.ContinuationToken is not null;
    }

    /// <summary>
    /// Downloads files a few ahead (hiding blob latency), yielding their bytes in the given (commit) order. Only the
    /// compressed bytes wait here: parsing happens one row group at a time in <see cref="ParseIntoAsync"/>, since a
    /// parsed row group holds its rows as objects (~600 bytes each).
    /// </summary>
    private static async IAsyncEnumerable<DownloadedFile> DownloadFilesAsync(IReadOnlyList<FileRef> files, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = new Queue<Task<DownloadedFile>>();
        var next = 0;
        try
        {
            while (next < files.Count || pending.Count > 0)
            {
                while (next < files.Count && pending.Count < FilesInFlight)
                {
                    var file = files[next++];
                    pending.Enqueue(Task.Run(() => DownloadFileAsync(file, stop.Token), stop.Token));
                }

                yield return await pending.Dequeue().ConfigureAwait(false);
            }
        }
        finally
        {
            // A failed file (or the consumer stopping) leaves downloads in flight: stop them and let them end.
            await stop.CancelAsync().ConfigureAwait(false);
            await ((Task)Task.WhenAll(pending)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<DownloadedFile> DownloadFileAsync(FileRef file, CancellationToken cancellationToken)
    {
        var set = file.Commit.Set;
        var name = set.Display + file.File;
        try
        {
            return new DownloadedFile(file, name, await set.Store.ReadAllBytesAsync(set.Folder + file.File, cancellationToken).ConfigureAwait(false));
        }
        catch (ObjectNotFoundException e)
        {
            throw new InvalidInputException(
                $"Partition manifest '{file.Commit.Manifest}' commits '{name}', which does not exist: the shard set is damaged " +
                "(restore the file, or label again into a new output location).",
                e);
        }
        catch (InvalidObjectKeyException e)
        {
            throw new InvalidInputException($"Partition manifest '{file.Commit.Manifest}' names '{file.File}', which is not a valid shard key: {e.Message}", e);
        }
    }

    /// <summary>Parses one downloaded file into <paramref name="load"/>, one row group at a time.</summary>
    private static async Task ParseIntoAsync(DownloadedFile file, LoadState load, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(file.Bytes, writable: false);
        if (file.Ref.Kind == FileKind.Errors)
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
    private static async Task<T> ReadShardAsync<T>(DownloadedFile file, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
        {
            // Parquet.Net reports damaged files with several exception types; any of them means the same here.
            var kind = file.Ref.Kind == FileKind.Errors ? "error-table" : "soft-target";
            throw new InvalidInputException($"Shard '{file.Name}' (committed by '{file.Ref.Commit.Manifest}') is not a readable {kind} shard: {e.Message}", e);
        }
    }

    private static bool SameStatistics(IReadOnlyList<float> a, IReadOnlyList<float> b) =>
        a.Count == b.Count && a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= StatisticTolerance);

    private static string TeacherOfFolder(string display)
    {
        var trimmed = display.TrimEnd('/', '\\');
        var start = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf('\\')) + 1;
        var segment = trimmed[start..];
        return segment.StartsWith("teacher=", StringComparison.Ordinal) ? segment["teacher=".Length..] : string.Empty;
    }

    private ImageSource OpenImageRoot(string location, string file)
    {
        try
        {
            var store = _stores.Open(location);
            return new ImageSource(store.Location.ToString(), store);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"The image root of shard '{file}' ('{location}') cannot be opened: {e.Message}", e);
        }
    }

    private sealed record CommitRef(SetState Set, string Manifest, int Partition, PartitionCommit Commit, DateTimeOffset Time);

    private sealed record FileRef(CommitRef Commit, string File, FileKind Kind, int Rank);

    private sealed record DownloadedFile(FileRef Ref, string Name, byte[] Bytes);

    /// <summary>One location being read, and what its footers said.</summary>
    private sealed class SetState(int index, IObjectStore store, string root, string folder)
    {
        public int Index { get; } = index;

        public IObjectStore Store { get; } = store;

        /// <summary>Prefix of the teacher folder inside <see cref="Store"/>: empty or <c>teacher=&lt;id&gt;/</c>.</summary>
        public string Folder { get; } = folder;

        /// <summary>The teacher folder as a location string; file names in messages start with it.</summary>
        public string Display { get; } = root + folder;

        public List<CommitRef> Commits { get; } = [];

        public int Manifests { get; set; }

        public int Files { get; set; }

        public long Rows { get; set; }

        public ShardFooter? Footer { get; set; }

        public int TopK { get; set; }

        public int ViewsPerImage { get; set; }

        public ShardSetInfo ToInfo() => new(
            Display, Footer!.TeacherId, Footer.WeightsSha256, Footer.TeacherSource, TopK, Footer.ResizeMode, ViewsPerImage, Manifests, Commits.Count, Files);
    }

    /// <summary>The rows read so far, in commit order, and the latest commit of every image.</summary>
    /// <remarks>
    /// Rows go straight into <see cref="SoftTargetColumns"/> (sized from the manifests' row counts), and the views of an
    /// image share one key and one ETag string (the parsed rows each carry their own copy): what a load holds at its
    /// peak grows with the rows by ~120 bytes each, not by the ~530 bytes of the rows' object form.
    /// </remarks>
    private sealed class LoadState(IReadOnlyList<string> classes, PreprocessingRecord? preprocessing, ShardSetReader reader, int expectedRows)
    {
        private readonly SoftTargetColumns _rows = new(expectedRows);
        private readonly List<int> _rank = new(expectedRows);
        private readonly Dictionary<(int Source, string Key), ImageState> _images = [];
        private readonly HashSet<(int Source, string Key, int Rank)> _errors = [];
        private readonly Dictionary<string, int> _sourceIndex = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _sourceOfLocation = new(StringComparer.Ordinal);
        private readonly List<ImageSource> _sources = [];

        public IReadOnlyList<ImageSource> Sources => _sources;

        public SoftTargetColumns Rows => _rows;

        /// <summary>Starts an error table; returns the source its keys are relative to.</summary>
        public int BeginErrors(DownloadedFile file, IReadOnlyDictionary<string, string> metadata)
        {
            file.Ref.Commit.Set.Files++;
            // Error tables carry the same footer; only where their keys are relative to matters here.
            return SourceOf(metadata.GetValueOrDefault(ShardFooter.InputKey), file.Name);
        }

        public void AddErrors(DownloadedFile file, int source, IReadOnlyList<ErrorRow> errors)
        {
            var rank = file.Ref.Rank;
            foreach (var error in errors)
            {
                ref var image = ref CollectionsMarshal.GetValueRefOrAddDefault(_images, (source, error.Key), out _);
                image.Rank = rank;
                _errors.Add((source, error.Key, rank));
            }
        }

        /// <summary>Checks a soft-target shard's footer against the student; returns the source its keys are relative to.</summary>
        public int BeginRows(DownloadedFile file, IReadOnlyDictionary<string, string> metadata)
        {
            var set = file.Ref.Commit.Set;
            set.Files++;
            var footer = ShardFooter.Parse(metadata, file.Name);
            Check(set, footer, file.Name);
            return SourceOf(footer.Input, file.Name);
        }

        public void AddRows(DownloadedFile file, int source, IReadOnlyList<SoftTargetRow> rows)
        {
            var rank = file.Ref.Rank;
            var fromRejected = file.Ref.Kind == FileKind.Rejected;
            foreach (var row in rows)
            {
                if (row.Target.Predicted < 0 || row.Target.Predicted >= classes.Count)
                {
                    throw new InvalidInputException(
                        $"Shard '{file.Name}' row '{row.Key}' view {row.View} predicts class {row.Target.Predicted}, outside the {classes.Count} classes of its footer.");
                }

                // Files arrive in commit order, so the last rank written is the image's latest commit.
                // An image seen only in an error table so far has no key string yet.
                ref var image = ref CollectionsMarshal.GetValueRefOrAddDefault(_images, (source, row.Key), out _);
                image.Key ??= row.Key;

                if (!string.Equals(image.ETag, row.ETag, StringComparison.Ordinal))
                {
                    image.ETag = row.ETag;
                }

                image.Rank = rank;
                _rows.Add(source, image.Key!, image.ETag!, row.View, row.Crop, row.Target, fromRejected);
                _rank.Add(rank);
            }

            file.Ref.Commit.Set.Rows += rows.Count;
        }

        /// <summary>
        /// Rows of each image's latest commit; per class, how many older rows were dropped; images whose latest commit
        /// has an error. Called once, at the end: it releases the per-image index.
        /// </summary>
        public (List<int> Latest, int[] Superseded, int ErrorImages) Latest()
        {
            var latest = new List<int>(_rows.Count);
            var superseded = new int[classes.Count];
            for (var row = 0; row < _rows.Count; row++)
            {
                if (_images[(_rows.Source(row), _rows.Key(row))].Rank == _rank[row])
                {
                    latest.Add(row);
                }
                else
                {
                    superseded[_rows.Predicted(row)]++;
                }
            }

            var errorImages = _errors.Where(e => _images[(e.Source, e.Key)].Rank == e.Rank).Select(e => (e.Source, e.Key)).Distinct().Count();
            // Only the rows are needed from here on; let the per-image index go before the selection copies rows.
            _images.Clear();
            _images.TrimExcess();
            _rank.Clear();
            _rank.TrimExcess();
            return (latest, superseded, errorImages);
        }

        /// <summary>An image's latest commit, and the key and ETag strings its rows share.</summary>
        private struct ImageState
        {
            public int Rank;
            public string? Key;
            public string? ETag;
        }

        private void Check(SetState set, ShardFooter footer, string file)
        {
            if (!footer.Classes.SequenceEqual(classes, StringComparer.Ordinal))
            {
                throw new InvalidInputException(
                    $"Shard '{file}' was labeled by teacher {footer.TeacherId} for the classes [{string.Join(", ", footer.Classes)}], " +
                    $"but the student has [{string.Join(", ", classes)}]: soft targets only transfer between the same classes in the same order.");
            }

            if (preprocessing is { } expected &&
                (footer.Size != expected.Width || footer.Size != expected.Height || footer.Channels != expected.Channels ||
                 !SameStatistics(footer.Mean, expected.Mean) || !SameStatistics(footer.Std, expected.Std)))
            {
                throw new InvalidInputException(
                    $"Shard '{file}' was labeled with preprocessing size {footer.Size}, {footer.Channels} channels, mean [{string.Join(", ", footer.Mean)}], std [{string.Join(", ", footer.Std)}], " +
                    $"but the student expects {expected.Width}x{expected.Height}, {expected.Channels} channels, mean [{string.Join(", ", expected.Mean)}], std [{string.Join(", ", expected.Std)}].");
            }

            var folderTeacher = TeacherOfFolder(set.Display);
            if (set.Footer is { } first && first.TeacherId != footer.TeacherId)
            {
                throw new InvalidInputException(
                    $"Shard '{file}' records teacher {footer.TeacherId}, but other shards of '{set.Display}' record teacher {first.TeacherId}: a shard set holds one teacher's soft targets.");
            }

            if (folderTeacher.Length > 0 && folderTeacher != footer.TeacherId)
            {
                throw new InvalidInputException(
                    $"Shard '{file}' records teacher {footer.TeacherId}, but it lies in the folder of teacher {folderTeacher}.");
            }

            set.Footer ??= footer;
            set.TopK = Math.Max(set.TopK, footer.TopK);
            set.ViewsPerImage = Math.Max(set.ViewsPerImage, footer.ViewsPerImage);
        }

        private int SourceOf(string? recorded, string file)
        {
            var location = reader._options.ImageRootOverride ?? recorded ?? reader._options.ImageRoot
                ?? throw new InvalidInputException(
                    $"Shard '{file}' does not record where its keys are relative to (no '{ShardFooter.InputKey}' footer: an older Labeler wrote it); " +
                    $"set {ShardSelectionOptions.SectionName}:ImageRoot to the location that Labeler read (its Labeler:Input).");
            if (_sourceOfLocation.TryGetValue(location, out var known))
            {
                return known;
            }

            var source = reader.OpenImageRoot(location, file);
            if (!_sourceIndex.TryGetValue(source.Location, out var index))
            {
                index = _sources.Count;
                _sources.Add(source);
                _sourceIndex.Add(source.Location, index);
            }

            _sourceOfLocation[location] = index;
            return index;
        }
    }
}
