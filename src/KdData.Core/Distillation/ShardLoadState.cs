using System.Runtime.InteropServices;
using KdData.Hosting;
using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>The rows read so far, in commit order, and the latest commit of every image.</summary>
/// <remarks>
/// Rows go straight into <see cref="SoftTargetColumns"/> (sized from the manifests' row counts), and the views of an
/// image share one key and one ETag string (the parsed rows each carry their own copy): what a load holds at its
/// peak grows with the rows by ~120 bytes each, not by the ~530 bytes of the rows' object form.
/// </remarks>
/// <param name="classes">The student's class names, in output order.</param>
/// <param name="footers">Checks each soft-target shard's footer before its rows are taken.</param>
/// <param name="sources">Numbers the image roots that rows' keys are relative to.</param>
/// <param name="expectedRows">How many rows to make room for up front (the manifests' count, capped).</param>
internal sealed class ShardLoadState(IReadOnlyList<string> classes, ShardFooterCheck footers, ImageSourceIndex sources, int expectedRows)
{
    private readonly SoftTargetColumns _rows = new(expectedRows);
    private readonly List<int> _rank = new(expectedRows);
    private readonly Dictionary<(int Source, string Key), ImageState> _images = [];
    private readonly HashSet<(int Source, string Key, int Rank)> _errors = [];

    public IReadOnlyList<ImageSource> Sources => sources.Sources;

    public SoftTargetColumns Rows => _rows;

    /// <summary>Starts an error table; returns the source its keys are relative to.</summary>
    public int BeginErrors(DownloadedShardFile file, IReadOnlyDictionary<string, string> metadata)
    {
        file.Ref.Commit.Set.Files++;
        // Error tables carry the same footer; only where their keys are relative to matters here.
        return sources.SourceOf(metadata.GetValueOrDefault(ShardFooter.InputKey), file.Name);
    }

    public void AddErrors(DownloadedShardFile file, int source, IReadOnlyList<ErrorRow> errors)
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
    public int BeginRows(DownloadedShardFile file, IReadOnlyDictionary<string, string> metadata)
    {
        var set = file.Ref.Commit.Set;
        set.Files++;
        var footer = ShardFooter.Parse(metadata, file.Name);
        footers.Check(set, footer, file.Name);
        set.Record(footer);
        return sources.SourceOf(footer.Input, file.Name);
    }

    public void AddRows(DownloadedShardFile file, int source, IReadOnlyList<SoftTargetRow> rows)
    {
        var rank = file.Ref.Rank;
        var fromRejected = file.Ref.Kind == ShardFileKind.Rejected;
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
}
