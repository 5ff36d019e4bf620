using Parquet;
using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>Writes the columns of one row group from a batch of rows; columns must come in schema order.</summary>
internal sealed class ShardColumnWriter<TRow>(ParquetRowGroupWriter writer, IReadOnlyList<TRow> rows)
{
    public Task WriteAsync<T>(DataField field, Func<TRow, T> select, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }

        return writer.WriteAsync<T>(field, values, null, null, cancellationToken);
    }

    public Task WriteNullableAsync<T>(DataField field, Func<TRow, T?> select, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }

        return writer.WriteAsync<T>(field, values, null, null, cancellationToken);
    }

    public Task WriteStringsAsync(DataField field, Func<TRow, string> select, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var values = new string[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(rows[i]);
        }

        return writer.WriteAsync(field, values, null);
    }

    /// <summary>
    /// Writes a standard 3-level LIST column (<c>optional group (LIST) { repeated group list { required T element } }</c>)
    /// from flat values plus Dremel levels: one level entry per element, or one per empty list (defined one level
    /// short of the element, with no value).
    /// </summary>
    public Task WriteListAsync<T>(ListField list, Func<TRow, IReadOnlyList<T>> select, CancellationToken cancellationToken)
        where T : struct
    {
        var item = (DataField)list.Item;
        var valueCount = 0;
        var levelCount = 0;
        foreach (var row in rows)
        {
            var count = select(row).Count;
            valueCount += count;
            levelCount += Math.Max(count, 1);
        }

        var values = new T[valueCount];
        var definitionLevels = new int[levelCount];
        var repetitionLevels = new int[levelCount];
        var v = 0;
        var level = 0;
        foreach (var row in rows)
        {
            var items = select(row);
            if (items.Count == 0)
            {
                definitionLevels[level] = item.MaxDefinitionLevel - 1;
                repetitionLevels[level++] = 0;
                continue;
            }

            for (var j = 0; j < items.Count; j++)
            {
                values[v++] = items[j];
                definitionLevels[level] = item.MaxDefinitionLevel;
                repetitionLevels[level++] = j == 0 ? 0 : item.MaxRepetitionLevel;
            }
        }

        return writer.WriteAllPartsAsync<T>(item, values, definitionLevels, repetitionLevels, cancellationToken);
    }
}
