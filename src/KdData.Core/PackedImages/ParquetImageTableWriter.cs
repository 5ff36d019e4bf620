using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace KdData.PackedImages;

/// <summary>
/// Writes a Parquet image table in the layout <see cref="ParquetImageTable"/> reads (and DuckDB, pandas or Hugging Face
/// <c>datasets</c> read as they are): an <c>image</c> binary column of encoded images, an <c>index</c> int32 column with
/// each image's <see cref="PackedImage.SourceIndex"/>, and, only when asked, a <c>label</c> int32 column. Row groups
/// hold a bounded number of rows because a row group is what every Parquet reader holds in memory at once.
/// </summary>
public static class ParquetImageTableWriter
{
    /// <summary>The image column's name (<see cref="PackedReadOptions.ImageColumn"/>'s default).</summary>
    public const string ImageColumn = "image";

    /// <summary>The label column's name (<see cref="PackedReadOptions.LabelColumn"/>'s default).</summary>
    public const string LabelColumn = "label";

    /// <summary>The source index column's name.</summary>
    public const string IndexColumn = "index";

    private static readonly DataField Image = new DataField<byte[]>(ImageColumn);
    private static readonly DataField Index = new DataField<int>(IndexColumn);

    // Optional int32, as DuckDB writes INTEGER columns; ParquetImageTable reads it as labels.
    private static readonly DataField Label = new DataField<int?>(LabelColumn);

    /// <summary>
    /// Writes <paramref name="images"/> in order as one Parquet file to <paramref name="stream"/> (left open) and returns the
    /// member names, i.e. the row indexes as text, which <see cref="PackedFormats.MemberKey"/> turns into image keys.
    /// </summary>
    /// <param name="stream">Where the file goes; written front to back.</param>
    /// <param name="images">The images, in row order.</param>
    /// <param name="withLabels">Whether the table has the <c>label</c> column; false leaves the labels out of the file altogether.</param>
    /// <param name="rowGroupSize">Rows per row group (the last may hold fewer).</param>
    /// <param name="cancellationToken">Stops writing; the stream then holds a torn file.</param>
    public static async Task<IReadOnlyList<string>> WriteAsync(Stream stream, IReadOnlyList<PackedImage> images, bool withLabels, int rowGroupSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(rowGroupSize, 1);
        var schema = withLabels ? new ParquetSchema(Image, Label, Index) : new ParquetSchema(Image, Index);
        // PNG bytes barely compress, but their headers repeat from row to row; Zstd at its default level costs little.
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd, CompressionLevel = System.IO.Compression.CompressionLevel.Optimal };
        var writer = await ParquetWriter.CreateAsync(schema, stream, options, false, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            for (var start = 0; start < images.Count; start += rowGroupSize)
            {
                var count = Math.Min(rowGroupSize, images.Count - start);
                var group = new PackedImage[count];
                for (var i = 0; i < count; i++)
                {
                    group[i] = images[start + i];
                }

                using var rowGroup = writer.CreateRowGroup();
                await rowGroup.WriteAsync(Image, group.Select(g => g.Bytes).ToArray(), null).ConfigureAwait(false);
                if (withLabels)
                {
                    await rowGroup.WriteAsync<int>(Label, group.Select(g => (int?)g.Label).ToArray(), null, null, cancellationToken).ConfigureAwait(false);
                }

                await rowGroup.WriteAsync<int>(Index, group.Select(g => g.SourceIndex).ToArray(), null, null, cancellationToken).ConfigureAwait(false);
                rowGroup.CompleteValidate();
            }
        }

        return [.. Enumerable.Range(0, images.Count).Select(i => i.ToString(CultureInfo.InvariantCulture))];
    }
}
