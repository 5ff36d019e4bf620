using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>Parquet layout of <see cref="ErrorRow"/>.</summary>
internal sealed class ErrorTable : IShardTable<ErrorRow>
{
    private static readonly DataField Key = new DataField<string>("key", nullable: false);
    private static readonly DataField ETag = new DataField<string>("etag", nullable: false);
    private static readonly DataField Size = new DataField<long>("size");
    private static readonly DataField Stage = new DataField<string>("stage", nullable: false);
    private static readonly DataField Reason = new DataField<string>("reason", nullable: false);
    private static readonly DataField Detail = new DataField<string>("detail", nullable: false);
    private static readonly DataField View = new DataField<int?>("view");

    // Declared after the fields: static initializers run in textual order and the constructor uses them.
    public static readonly ErrorTable Instance = new();

    private ErrorTable()
    {
    }

    public string Name => "error";

    public ParquetSchema Schema { get; } = new(Key, ETag, Size, Stage, Reason, Detail, View);

    public void Validate(ErrorRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (string.IsNullOrEmpty(row.Key) || row.ETag is null || string.IsNullOrEmpty(row.Stage)
            || string.IsNullOrEmpty(row.Reason) || row.Detail is null)
        {
            throw new ArgumentException(
                $"Error row '{row.Key}' needs a non-empty key, stage and reason, and a non-null etag and detail.", nameof(row));
        }

        if (row.Size < 0 || row.View < 0)
        {
            throw new ArgumentException($"Error row '{row.Key}' has a negative size ({row.Size}) or view ({row.View}).", nameof(row));
        }
    }

    public async Task WriteColumnsAsync(ShardColumnWriter<ErrorRow> columns, CancellationToken cancellationToken)
    {
        await columns.WriteStringsAsync(Key, r => r.Key, cancellationToken).ConfigureAwait(false);
        await columns.WriteStringsAsync(ETag, r => r.ETag, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Size, r => r.Size, cancellationToken).ConfigureAwait(false);
        await columns.WriteStringsAsync(Stage, r => r.Stage, cancellationToken).ConfigureAwait(false);
        await columns.WriteStringsAsync(Reason, r => r.Reason, cancellationToken).ConfigureAwait(false);
        await columns.WriteStringsAsync(Detail, r => r.Detail, cancellationToken).ConfigureAwait(false);
        await columns.WriteNullableAsync(View, r => r.View, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ErrorRow[]> ReadColumnsAsync(ShardColumnReader columns, CancellationToken cancellationToken)
    {
        var keys = await columns.ReadStringsAsync(Key, cancellationToken).ConfigureAwait(false);
        var etags = await columns.ReadStringsAsync(ETag, cancellationToken).ConfigureAwait(false);
        var sizes = await columns.ReadAsync<long>(Size, cancellationToken).ConfigureAwait(false);
        var stages = await columns.ReadStringsAsync(Stage, cancellationToken).ConfigureAwait(false);
        var reasons = await columns.ReadStringsAsync(Reason, cancellationToken).ConfigureAwait(false);
        var details = await columns.ReadStringsAsync(Detail, cancellationToken).ConfigureAwait(false);
        var views = await columns.ReadNullableAsync<int>(View, cancellationToken).ConfigureAwait(false);

        var rows = new ErrorRow[columns.RowCount];
        for (var i = 0; i < rows.Length; i++)
        {
            rows[i] = new ErrorRow(keys[i], etags[i], sizes[i], stages[i], reasons[i], details[i], views[i]);
        }

        return rows;
    }
}
