using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>
/// Reads a shard written by <see cref="ShardWriter{TRow}"/> (or any Parquet file with the same columns) back
/// into rows, one row group at a time, plus its footer metadata. Open one with
/// <see cref="SoftTargetShard.OpenReaderAsync(Stream, CancellationToken)"/> or
/// <see cref="ErrorShard.OpenReaderAsync(Stream, CancellationToken)"/>.
/// </summary>
public sealed class ShardReader<TRow> : IAsyncDisposable
{
    private readonly IShardTable<TRow> _table;
    private readonly ParquetReader _reader;
    private readonly Dictionary<string, DataField> _fileFields;
    private readonly string _source;

    private ShardReader(IShardTable<TRow> table, ParquetReader reader, string source)
    {
        _table = table;
        _reader = reader;
        _source = source;
        _fileFields = reader.Schema.GetDataFields().ToDictionary(f => f.Path.ToString(), StringComparer.Ordinal);
        Metadata = new Dictionary<string, string>(reader.CustomMetadata ?? [], StringComparer.Ordinal);
        RowGroupCount = reader.RowGroupCount;
        RowCount = Enumerable.Range(0, RowGroupCount).Sum(i => reader.OpenRowGroupReader(i).RowCount);
    }

    /// <summary>The footer key-value metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public int RowGroupCount { get; }

    /// <summary>Rows in the whole file, from the footer (no data is read).</summary>
    public long RowCount { get; }

    internal static async Task<ShardReader<TRow>> OpenAsync(
        IShardTable<TRow> table, Stream stream, bool leaveOpen, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, null, leaveOpen, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new InvalidDataException($"'{source}' is not a readable Parquet {table.Name} shard: {ex.Message}", ex);
        }

        try
        {
            var result = new ShardReader<TRow>(table, reader, source);
            result.CheckSchema();
            return result;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Reads the rows of one row group.</summary>
    public async Task<IReadOnlyList<TRow>> ReadRowGroupAsync(int index, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, RowGroupCount);
        var rowGroup = _reader.OpenRowGroupReader(index);
        return await _table.ReadColumnsAsync(new ShardColumnReader(rowGroup, _fileFields, _source), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams all rows, holding one row group in memory at a time.</summary>
    public async IAsyncEnumerable<TRow> ReadRowsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < RowGroupCount; i++)
        {
            foreach (var row in await ReadRowGroupAsync(i, cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }

    /// <summary>Reads every row of the shard into memory.</summary>
    public async Task<IReadOnlyList<TRow>> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var rows = new List<TRow>(checked((int)RowCount));
        for (var i = 0; i < RowGroupCount; i++)
        {
            rows.AddRange(await ReadRowGroupAsync(i, cancellationToken).ConfigureAwait(false));
        }

        return rows;
    }

    public ValueTask DisposeAsync() => _reader.DisposeAsync();

    private void CheckSchema()
    {
        foreach (var expected in _table.Schema.GetDataFields())
        {
            if (!_fileFields.ContainsKey(expected.Path.ToString()) && !_table.OptionalColumns.Contains(expected.Path.ToString()))
            {
                throw new InvalidDataException($"'{_source}' is not a {_table.Name} shard: it has no column '{expected.Path}'.");
            }
        }
    }
}
