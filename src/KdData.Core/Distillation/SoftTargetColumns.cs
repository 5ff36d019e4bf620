using KdData.Imaging;
using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>
/// Soft-target rows stored column by column in a few large arrays, for the distill data path, which keeps every
/// selected row for the whole run.
/// </summary>
/// <remarks>
/// Why not an array of <see cref="PseudoLabel"/>: as objects a row costs a <see cref="SoftTarget"/> and its two
/// arrays plus its own key and ETag strings, ~530 bytes with k = 10 (measured on the 54k-image, 4-view pool of the
/// results table: 114 MiB held, a 281 MiB peak working set while loading). Here a row is ~110 bytes of primitives
/// (top-k classes and logits packed into two shared arrays) plus two references to key and ETag strings that the
/// reader shares between the views of an image. Rows are appended while shards load (capacity taken from the
/// manifests' row counts, so the arrays rarely grow) and then moved once (<see cref="MoveTo"/>) into the selected order,
/// which drops what the selection rules left out. <see cref="Row"/> and <see cref="Target"/> rebuild the object
/// form on demand.
/// </remarks>
internal sealed class SoftTargetColumns
{
    private const byte FlipFlag = 1;
    private const byte RejectedFlag = 2;

    /// <summary>Top-k entries allocated up front from the expected row count, at most (2^24: 128 MiB of classes and logits).</summary>
    private const int MaxPresizedEntries = 1 << 24;

    private int[] _source;
    private int[] _view;
    private string[] _key;
    private string[] _etag;
    private CropBox[] _box;
    private byte[] _flags;
    private int[] _predicted;
    private float[] _confidence;
    private float[] _entropy;
    private float[] _logSumExp;

    // Row i's top-k entries are _classes/_logits[_start[i] .. _start[i + 1]); _start has Count + 1 entries.
    private int[] _start;
    private int[] _classes;
    private float[] _logits;

    /// <param name="capacity">Rows expected (more are accepted; the arrays then grow).</param>
    public SoftTargetColumns(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _source = new int[capacity];
        _view = new int[capacity];
        _key = new string[capacity];
        _etag = new string[capacity];
        _box = new CropBox[capacity];
        _flags = new byte[capacity];
        _predicted = new int[capacity];
        _confidence = new float[capacity];
        _entropy = new float[capacity];
        _logSumExp = new float[capacity];
        _start = new int[capacity + 1];
        // Sized once the first row shows k (all rows of a set share it).
        _classes = [];
        _logits = [];
    }

    /// <summary>Rows stored.</summary>
    public int Count { get; private set; }

    /// <summary>Appends a row; returns its index. Strings are kept as given (callers pass shared instances).</summary>
    public int Add(int source, string key, string etag, int view, CropDecision crop, SoftTarget target, bool fromRejected)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(target);
        var i = Count;
        if (i == _source.Length)
        {
            GrowRows((int)Math.Min(Math.Max(16L, i * 2L), Array.MaxLength - 1));
        }

        var k = target.K;
        var at = _start[i];
        if ((long)at + k > _classes.Length)
        {
            // First row: room for k per row of the expected capacity (at most MaxPresizedEntries: the capacity comes
            // from manifests); later the arrays double.
            var wanted = _classes.Length == 0 ? Math.Min((long)_source.Length * k, MaxPresizedEntries) : _classes.Length * 2L;
            wanted = Math.Min(Math.Max(wanted, (long)at + k), Array.MaxLength);
            if (wanted < (long)at + k)
            {
                throw new InvalidOperationException(
                    $"The selected soft targets hold more than {Array.MaxLength} top-k entries in all; lower Labeler:TopK or select fewer rows.");
            }

            GrowTargets((int)wanted);
        }

        _source[i] = source;
        _view[i] = view;
        _key[i] = key;
        _etag[i] = etag;
        _box[i] = crop.Box;
        _flags[i] = (byte)((crop.FlipHorizontal ? FlipFlag : 0) | (fromRejected ? RejectedFlag : 0));
        _predicted[i] = target.Predicted;
        _confidence[i] = target.Confidence;
        _entropy[i] = target.Entropy;
        _logSumExp[i] = target.LogSumExp;
        for (var j = 0; j < k; j++)
        {
            _classes[at + j] = target.TopKClasses[j];
            _logits[at + j] = target.TopKLogits[j];
        }

        _start[i + 1] = at + k;
        Count = i + 1;
        return i;
    }

    public int Source(int row) => _source[Checked(row)];

    public string Key(int row) => _key[Checked(row)];

    public int View(int row) => _view[Checked(row)];

    public int Predicted(int row) => _predicted[Checked(row)];

    public float Confidence(int row) => _confidence[Checked(row)];

    public bool FromRejected(int row) => (_flags[Checked(row)] & RejectedFlag) != 0;

    public CropDecision Crop(int row) => new(_box[Checked(row)], (_flags[row] & FlipFlag) != 0);

    /// <summary>Row <paramref name="row"/>'s soft target as an object (fresh arrays; the columns stay untouched).</summary>
    public SoftTarget Target(int row)
    {
        var from = _start[Checked(row)];
        var k = _start[row + 1] - from;
        return SoftTarget.FromChecked(
            _predicted[row], _confidence[row], _entropy[row], _classes.AsSpan(from, k).ToArray(), _logits.AsSpan(from, k).ToArray(), _logSumExp[row]);
    }

    /// <summary>Row <paramref name="row"/> in its object form.</summary>
    public PseudoLabel Row(int row) =>
        new(Source(row), _key[row], _etag[row], _view[row], Crop(row), Target(row), FromRejected(row));

    /// <summary>Order of the selected rows: source, key (ordinal), view.</summary>
    public int Compare(int a, int b)
    {
        var order = _source[a].CompareTo(_source[b]);
        if (order == 0)
        {
            order = string.CompareOrdinal(_key[a], _key[b]);
        }

        return order != 0 ? order : _view[a].CompareTo(_view[b]);
    }

    /// <summary>
    /// Moves the rows <paramref name="rows"/>, in that order, into a new, exactly sized store and empties this one.
    /// Column by column, each old column released as soon as it is copied, so the move needs little more than the
    /// kept rows on top of what this store already holds (a copy of the whole store would double it at the peak).
    /// </summary>
    public SoftTargetColumns MoveTo(ReadOnlySpan<int> rows)
    {
        foreach (var row in rows)
        {
            Checked(row);
        }

        var result = new SoftTargetColumns(0) { Count = rows.Length };
        result._source = Take(ref _source, rows);
        result._view = Take(ref _view, rows);
        result._key = Take(ref _key, rows);
        result._etag = Take(ref _etag, rows);
        result._box = Take(ref _box, rows);
        result._flags = Take(ref _flags, rows);
        result._predicted = Take(ref _predicted, rows);
        result._confidence = Take(ref _confidence, rows);
        result._entropy = Take(ref _entropy, rows);
        result._logSumExp = Take(ref _logSumExp, rows);

        var start = new int[rows.Length + 1];
        for (var i = 0; i < rows.Length; i++)
        {
            start[i + 1] = start[i] + _start[rows[i] + 1] - _start[rows[i]];
        }

        result._classes = TakeTargets(ref _classes, rows, start);
        result._logits = TakeTargets(ref _logits, rows, start);
        result._start = start;
        _start = [0];
        Count = 0;
        return result;
    }

    private static T[] Take<T>(ref T[] column, ReadOnlySpan<int> rows)
    {
        var taken = new T[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            taken[i] = column[rows[i]];
        }

        column = [];
        return taken;
    }

    private T[] TakeTargets<T>(ref T[] column, ReadOnlySpan<int> rows, int[] start)
    {
        var taken = new T[start[^1]];
        for (var i = 0; i < rows.Length; i++)
        {
            var from = _start[rows[i]];
            column.AsSpan(from, start[i + 1] - start[i]).CopyTo(taken.AsSpan(start[i]));
        }

        column = [];
        return taken;
    }

    private int Checked(int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Count);
        return row;
    }

    private void GrowRows(int capacity)
    {
        Array.Resize(ref _source, capacity);
        Array.Resize(ref _view, capacity);
        Array.Resize(ref _key, capacity);
        Array.Resize(ref _etag, capacity);
        Array.Resize(ref _box, capacity);
        Array.Resize(ref _flags, capacity);
        Array.Resize(ref _predicted, capacity);
        Array.Resize(ref _confidence, capacity);
        Array.Resize(ref _entropy, capacity);
        Array.Resize(ref _logSumExp, capacity);
        Array.Resize(ref _start, capacity + 1);
    }

    private void GrowTargets(int entries)
    {
        Array.Resize(ref _classes, entries);
        Array.Resize(ref _logits, entries);
    }
}
