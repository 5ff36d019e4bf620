using Parquet;

namespace KdData.SoftTargets;

/// <summary>
/// Streams rows into one Zstd-compressed Parquet file, a row group at a time, with caller-supplied footer
/// key-value metadata. Create one with <see cref="SoftTargetShard.CreateWriterAsync"/> or
/// <see cref="ErrorShard.CreateWriterAsync"/>.
/// </summary>
/// <remarks>
/// At most <see cref="ShardOptions.RowGroupSize"/> rows are held in memory; a full batch is written as a row
/// group at once. The footer (and the last, partial row group) is written by <see cref="CompleteAsync"/>.
/// Disposing without completing still closes the file but drops the rows buffered since the last row group,
/// so the file then holds a valid prefix — write to a temporary name and publish it only after
/// <see cref="CompleteAsync"/> returns. The stream is not closed.
/// </remarks>
public sealed class ShardWriter<TRow> : IAsyncDisposable
{
    private readonly IShardTable<TRow> _table;
    private readonly ParquetWriter _writer;
    private readonly List<TRow> _pending;
    private readonly int _rowGroupSize;
    private bool _closed;

    private ShardWriter(IShardTable<TRow> table, ParquetWriter writer, ShardOptions options)
    {
        _table = table;
        _writer = writer;
        _rowGroupSize = options.RowGroupSize;
        MaxRows = options.MaxRowsPerShard;
        _pending = new List<TRow>(Math.Min(_rowGroupSize, MaxRows));
    }

    /// <summary>Most rows this shard accepts (<see cref="ShardOptions.MaxRowsPerShard"/>).</summary>
    public int MaxRows { get; }

    /// <summary>Rows accepted so far, including those not yet written as a row group.</summary>
    public int RowCount { get; private set; }

    /// <summary>Row groups written so far.</summary>
    public int RowGroupCount { get; private set; }

    /// <summary>True when the shard holds <see cref="MaxRows"/> rows and accepts no more.</summary>
    public bool IsFull => RowCount >= MaxRows;

    internal static async Task<ShardWriter<TRow>> CreateAsync(
        IShardTable<TRow> table,
        Stream stream,
        IReadOnlyDictionary<string, string>? metadata,
        ShardOptions options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.RowGroupSize, 1, nameof(options) + "." + nameof(options.RowGroupSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxRowsPerShard, 1, nameof(options) + "." + nameof(options.MaxRowsPerShard));
        var footer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrEmpty(key) || value is null)
            {
                throw new ArgumentException($"Footer metadata entry '{key}' needs a non-empty key and a non-null value.", nameof(metadata));
            }

            footer[key] = value;
        }

        // Zstd at its default level (CompressionLevel.Optimal), not Parquet.Net's default SmallestSize, which picks
        // Zstd's slowest optimal-parsing strategies: on soft-target rows those cost more CPU than decoding the
        // images (~0.03 ms per row) for a few percent of a file that is ~50 bytes per row either way.
        var parquetOptions = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.Optimal };
        var writer = await ParquetWriter.CreateAsync(table.Schema, stream, parquetOptions, false, cancellationToken).ConfigureAwait(false);
        writer.CustomMetadata = footer;
        return new ShardWriter<TRow>(table, writer, options);
    }

    /// <summary>Adds a row; writes a row group when <see cref="ShardOptions.RowGroupSize"/> rows are buffered.</summary>
    /// <exception cref="ArgumentException">The row cannot be stored (the message names its key).</exception>
    /// <exception cref="InvalidOperationException">The shard is full or already completed.</exception>
    public async Task WriteAsync(TRow row, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        _table.Validate(row);
        if (IsFull)
        {
            throw new InvalidOperationException($"The {_table.Name} shard already holds its maximum of {MaxRows} rows; start a new shard.");
        }

        _pending.Add(row);
        RowCount++;
        if (_pending.Count >= _rowGroupSize)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Adds rows in order; see <see cref="WriteAsync(TRow, CancellationToken)"/>.</summary>
    public async Task WriteAsync(IEnumerable<TRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var row in rows)
        {
            await WriteAsync(row, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes the buffered rows as a last row group and the footer. A shard with no rows is valid.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        _closed = true;
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_closed)
        {
            _closed = true;
            _pending.Clear();
            await _writer.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }

        using (var rowGroup = _writer.CreateRowGroup())
        {
            await _table.WriteColumnsAsync(new ShardColumnWriter<TRow>(rowGroup, _pending), cancellationToken).ConfigureAwait(false);
            rowGroup.CompleteValidate();
        }

        RowGroupCount++;
        _pending.Clear();
    }
}
