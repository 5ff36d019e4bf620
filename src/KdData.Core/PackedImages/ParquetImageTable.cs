using System.Globalization;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Schema;

namespace KdData.PackedImages;

/// <summary>
/// A Parquet table of encoded images, read one row group at a time from a seekable stream (a local file, or an Azure
/// blob's ranged reads). The image column is plain binary or the Hugging Face <c>datasets</c> struct
/// (<c>image.bytes</c>, <c>image.path</c>); an optional integer column carries labels. Members are named by their
/// 0-based row index over the whole file.
/// </summary>
public sealed class ParquetImageTable : IAsyncDisposable
{
    private readonly ParquetReader _reader;
    private readonly DataField _image;
    private readonly DataField? _label;
    private readonly string _key;
    private readonly PackedReadOptions _options;

    private ParquetImageTable(ParquetReader reader, DataField image, DataField? label, string key, PackedReadOptions options)
    {
        _reader = reader;
        _image = image;
        _label = label;
        _key = key;
        _options = options;
    }

    /// <summary>Rows in the file (from its footer).</summary>
    public long RowCount { get; private set; }

    /// <summary>Whether the file has the label column.</summary>
    public bool HasLabels => _label is not null;

    /// <summary>Reads the footer of the table on <paramref name="stream"/> (left open) and finds its columns.</summary>
    /// <param name="stream">The file; readable and seekable.</param>
    /// <param name="key">The object key, for messages.</param>
    /// <param name="options">Column names and bounds.</param>
    /// <param name="cancellationToken">Cancels reading the footer.</param>
    /// <exception cref="PackedFileException">Not a Parquet file, no image column, or an image column that is not binary.</exception>
    public static async Task<ParquetImageTable> OpenAsync(Stream stream, string key, PackedReadOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        // The magic decides "not Parquet"; an IOException from the reader is a failed read (retried), not a verdict.
        if (!await HasMagicAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            throw new PackedFileException(key, "not-parquet", "is not a Parquet file: it does not start and end with 'PAR1'");
        }

        ParquetReader reader;
        try
        {
            reader = await ParquetReader.CreateAsync(stream, null, true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or OverflowException)
        {
            throw new PackedFileException(key, "corrupt-parquet", $"has a Parquet footer that cannot be read: {e.Message}", e);
        }

        try
        {
            var fields = reader.Schema.GetDataFields();
            var image = FindImage(fields, key, options.ImageColumn);
            var label = FindLabel(fields, key, options.LabelColumn);
            var table = new ParquetImageTable(reader, image, label, key, options);
            for (var i = 0; i < reader.RowGroupCount; i++)
            {
                table.RowCount += reader.OpenRowGroupReader(i).RowCount;
            }

            return table;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The members in row order. A row group whose rows are all <paramref name="isDone"/> is skipped unread, so an
    /// incremental run reads only the footer of a finished file.
    /// </summary>
    /// <param name="isDone">Rows (by index) not to return, asked once per row; null for none.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="PackedFileException">A row group's image column is larger than <see cref="PackedReadOptions.MaxRowGroupBytes"/>.</exception>
    public async IAsyncEnumerable<PackedMember> ReadAsync(Func<long, bool>? isDone = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        long first = 0;
        for (var g = 0; g < _reader.RowGroupCount; g++)
        {
            using var group = _reader.OpenRowGroupReader(g);
            var count = checked((int)group.RowCount);
            var start = first;
            first += count;
            var skip = new bool[count];
            var all = isDone is not null;
            for (var i = 0; i < count && isDone is not null; i++)
            {
                skip[i] = isDone(start + i);
                all &= skip[i];
            }

            if (all)
            {
                continue;
            }

            var size = group.GetMetadata(_image)?.MetaData?.TotalCompressedSize ?? 0;
            if (size > _options.MaxRowGroupBytes)
            {
                throw new PackedFileException(
                    _key, "row-group-too-large",
                    string.Create(CultureInfo.InvariantCulture, $"row group {g} holds {size:N0} bytes of images, over the {_options.MaxRowGroupBytes:N0} a row group may hold (rewrite it with smaller row groups, e.g. DuckDB's ROW_GROUP_SIZE 1000)"));
            }

            var images = new byte[count][];
            int?[]? labels;
            try
            {
                await group.ReadAsync(_image, images, null, cancellationToken).ConfigureAwait(false);
                labels = _label is null ? null : await ReadLabelsAsync(group, _label, count, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidDataException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException or ArgumentException or OverflowException)
            {
                // Damaged pages: the bytes are what they are at this ETag, so reading again would not help.
                throw new PackedFileException(_key, "corrupt-parquet", $"row group {g} cannot be decoded: {e.Message}", e);
            }

            for (var i = 0; i < count; i++)
            {
                if (skip[i])
                {
                    continue;
                }

                var row = start + i;
                var name = row.ToString(CultureInfo.InvariantCulture);
                var label = labels?[i];
                yield return images[i] is { } bytes
                    ? new PackedMember(name, bytes, label)
                    : new PackedMember(name, null, label, "null-image", $"row {name} of '{_key}' has no image in column '{_options.ImageColumn}'");
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _reader.DisposeAsync();

    private static async Task<bool> HasMagicAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (stream.Length < 12)
        {
            return false;
        }

        var head = new byte[4];
        var tail = new byte[4];
        stream.Position = 0;
        await stream.ReadExactlyAsync(head, cancellationToken).ConfigureAwait(false);
        stream.Position = stream.Length - 4;
        await stream.ReadExactlyAsync(tail, cancellationToken).ConfigureAwait(false);
        stream.Position = 0;
        return "PAR1"u8.SequenceEqual(head) && "PAR1"u8.SequenceEqual(tail);
    }

    private static DataField FindImage(DataField[] fields, string key, string column)
    {
        // Plain binary column "image", or the datasets struct "image" { bytes, path }.
        var field = fields.FirstOrDefault(f => f.Path.Length == 1 && f.Path.FirstPart == column)
            ?? fields.FirstOrDefault(f => f.Path.Length == 2 && f.Path.FirstPart == column && f.Path[1] == "bytes");
        if (field is null)
        {
            var names = string.Join(", ", fields.Select(f => string.Join('.', f.Path.ToList())));
            throw new PackedFileException(key, "no-image-column", $"has no image column '{column}' (plain binary, or a struct with 'bytes'); its columns are: {names}");
        }

        // Parquet.Net 6 gives a BYTE_ARRAY column without a logical type (what DuckDB writes for BLOB, pyarrow for binary)
        // the CLR type ReadOnlyMemory<byte>; both that and byte[] are read as byte[] by ParquetRowGroupReader.ReadAsync.
        if ((field.ClrType != typeof(byte[]) && field.ClrType != typeof(ReadOnlyMemory<byte>)) || field.MaxRepetitionLevel != 0)
        {
            throw new PackedFileException(key, "image-column-type", $"image column '{string.Join('.', field.Path.ToList())}' holds {field.ClrType.Name}{(field.MaxRepetitionLevel != 0 ? " lists" : "")}, not binary image bytes");
        }

        return field;
    }

    private static DataField? FindLabel(DataField[] fields, string key, string column)
    {
        if (string.IsNullOrEmpty(column))
        {
            return null;
        }

        var field = fields.FirstOrDefault(f => f.Path.Length == 1 && f.Path.FirstPart == column);
        if (field is null)
        {
            return null;
        }

        if (field.MaxRepetitionLevel != 0 || (field.ClrType != typeof(int) && field.ClrType != typeof(long) && field.ClrType != typeof(short) && field.ClrType != typeof(sbyte) && field.ClrType != typeof(byte)))
        {
            throw new PackedFileException(key, "label-column-type", $"label column '{column}' holds {field.ClrType.Name}, not integer class indexes (set the label column to empty to ignore it)");
        }

        return field;
    }

    private static Task<int?[]> ReadLabelsAsync(ParquetRowGroupReader group, DataField field, int count, CancellationToken cancellationToken) =>
        field.ClrType == typeof(long) ? ReadLabelsAsync<long>(group, field, count, v => v is >= 0 and <= int.MaxValue ? (int)v : null, cancellationToken)
        : field.ClrType == typeof(int) ? ReadLabelsAsync<int>(group, field, count, v => v >= 0 ? v : null, cancellationToken)
        : field.ClrType == typeof(short) ? ReadLabelsAsync<short>(group, field, count, v => v >= 0 ? v : null, cancellationToken)
        : field.ClrType == typeof(sbyte) ? ReadLabelsAsync<sbyte>(group, field, count, v => v >= 0 ? v : null, cancellationToken)
        : ReadLabelsAsync<byte>(group, field, count, v => v, cancellationToken);

    // A negative or null label means "no label"; it never fails the image.
    private static async Task<int?[]> ReadLabelsAsync<T>(ParquetRowGroupReader group, DataField field, int count, Func<T, int?> convert, CancellationToken cancellationToken)
        where T : struct
    {
        var values = new T?[count];
        await group.ReadAsync<T>(field, values, null, cancellationToken).ConfigureAwait(false);
        var labels = new int?[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = values[i] is { } v ? convert(v) : null;
        }

        return labels;
    }
}
