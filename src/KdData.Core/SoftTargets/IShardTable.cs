using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>
/// Maps one row type to its Parquet schema and columns, so a single writer and reader serve both the
/// soft-target shards and the error tables.
/// </summary>
internal interface IShardTable<TRow>
{
    /// <summary>Short name of the table for messages, e.g. "soft-target".</summary>
    string Name { get; }

    ParquetSchema Schema { get; }

    /// <summary>Columns added after version 1 of the table: files written before them lack them and still read (as nulls).</summary>
    IReadOnlySet<string> OptionalColumns => EmptySet;

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Throws <see cref="ArgumentException"/> naming the row's key when it cannot be stored.</summary>
    void Validate(TRow row);

    /// <summary>Writes every column of one row group, in schema order.</summary>
    Task WriteColumnsAsync(ShardColumnWriter<TRow> columns, CancellationToken cancellationToken);

    /// <summary>Reads every column of one row group and assembles the rows.</summary>
    Task<TRow[]> ReadColumnsAsync(ShardColumnReader columns, CancellationToken cancellationToken);
}
