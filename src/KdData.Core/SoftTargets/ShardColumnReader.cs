using Parquet;
using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>
/// Reads the columns of one row group, resolving each expected field against the file's own schema so a file
/// with a missing or differently shaped column fails with a message naming the column.
/// </summary>
internal sealed class ShardColumnReader
{
    private readonly ParquetRowGroupReader _reader;
    private readonly IReadOnlyDictionary<string, DataField> _fileFields;
    private readonly string _source;

    public ShardColumnReader(ParquetRowGroupReader reader, IReadOnlyDictionary<string, DataField> fileFields, string source)
    {
        _reader = reader;
        _fileFields = fileFields;
        _source = source;
        RowCount = checked((int)reader.RowCount);
    }

    public int RowCount { get; }

    public async Task<T[]> ReadAsync<T>(DataField expected, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T[RowCount];
        await _reader.ReadAsync<T>(Resolve(expected), values, null, cancellationToken).ConfigureAwait(false);
        return values;
    }

    public async Task<T?[]> ReadNullableAsync<T>(DataField expected, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[RowCount];
        await _reader.ReadAsync<T>(Resolve(expected), values, null, cancellationToken).ConfigureAwait(false);
        return values;
    }

    /// <summary>Whether the file has <paramref name="expected"/>'s column (for columns a newer version added).</summary>
    public bool Has(DataField expected) => _fileFields.ContainsKey(expected.Path.ToString());

    public async Task<string[]> ReadStringsAsync(DataField expected, CancellationToken cancellationToken)
    {
        var values = new string[RowCount];
        await _reader.ReadAsync(Resolve(expected), values, null, cancellationToken).ConfigureAwait(false);
        foreach (var value in values)
        {
            if (value is null)
            {
                throw new InvalidDataException($"Shard '{_source}' has a null in required column '{expected.Path}'.");
            }
        }

        return values;
    }

    /// <summary>Reads a LIST column into one array per row (a null or empty list becomes an empty array).</summary>
    public async Task<T[][]> ReadListsAsync<T>(ListField expected, CancellationToken cancellationToken)
        where T : struct
    {
        var field = Resolve((DataField)expected.Item);
        var levelCount = checked((int)(_reader.GetMetadata(field)?.MetaData?.NumValues ?? 0));
        var values = new T[levelCount];
        var definitionLevels = new int[levelCount];
        var repetitionLevels = new int[levelCount];
        await _reader.ReadRawAsync<T>(field, values, definitionLevels, repetitionLevels, cancellationToken).ConfigureAwait(false);

        // Values come back densely packed (only defined elements); levels have one entry per element or per
        // null/empty list. Rows start where the repetition level is 0.
        var lists = new T[RowCount][];
        var row = -1;
        var rowStart = 0;
        var valueIndex = 0;
        for (var i = 0; i <= levelCount; i++)
        {
            if (i == levelCount || repetitionLevels[i] == 0)
            {
                if (row >= 0)
                {
                    lists[row] = values[rowStart..valueIndex];
                }

                if (i == levelCount)
                {
                    break;
                }

                row++;
                rowStart = valueIndex;
                if (row >= RowCount)
                {
                    throw new InvalidDataException($"Shard '{_source}' column '{field.Path}' has more lists than the row group's {RowCount} rows.");
                }
            }

            if (definitionLevels[i] == field.MaxDefinitionLevel)
            {
                valueIndex++;
            }
        }

        if (row != RowCount - 1)
        {
            throw new InvalidDataException($"Shard '{_source}' column '{field.Path}' has {row + 1} lists for {RowCount} rows.");
        }

        return lists;
    }

    private DataField Resolve(DataField expected)
    {
        var path = expected.Path.ToString();
        if (!_fileFields.TryGetValue(path, out var actual))
        {
            throw new InvalidDataException($"Shard '{_source}' has no column '{path}'.");
        }

        if (actual.MaxRepetitionLevel != expected.MaxRepetitionLevel || (actual.IsNullable && !expected.IsNullable))
        {
            throw new InvalidDataException(
                $"Shard '{_source}' column '{path}' has repetition {actual.MaxRepetitionLevel} and nullable={actual.IsNullable}; " +
                $"expected repetition {expected.MaxRepetitionLevel} and nullable={expected.IsNullable}.");
        }

        return actual;
    }
}
