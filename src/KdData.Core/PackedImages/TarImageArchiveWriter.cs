using System.Formats.Tar;
using System.Globalization;
using System.Text;

namespace KdData.PackedImages;

/// <summary>
/// Writes a WebDataset tar shard in the layout <see cref="TarImageArchive"/> reads: per image one sample whose key is its
/// <see cref="PackedImage.SourceIndex"/> as five or more digits, with a <c>NNNNN.png</c> member and, only when asked, a
/// <c>NNNNN.cls</c> member holding the class index as decimal text (WebDataset's convention). Entries are ustar with a
/// fixed time, owner and mode, so the same images always give the same bytes (the importer relies on it to resume).
/// </summary>
public static class TarImageArchiveWriter
{
    private const UnixFileMode MemberMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Writes <paramref name="images"/> in order to <paramref name="stream"/> (left open) and returns the image members'
    /// names (<c>NNNNN.png</c>), which <see cref="PackedFormats.MemberKey"/> turns into image keys.
    /// </summary>
    /// <param name="stream">Where the archive goes; written front to back.</param>
    /// <param name="images">The images (PNG), in archive order; their source indexes must differ.</param>
    /// <param name="withLabels">Whether each sample has its <c>.cls</c> member; false leaves the labels out of the archive.</param>
    /// <param name="cancellationToken">Stops writing; the stream then holds a torn archive.</param>
    public static async Task<IReadOnlyList<string>> WriteAsync(Stream stream, IReadOnlyList<PackedImage> images, bool withLabels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(images);
        var names = new List<string>(images.Count);
        var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true);
        await using (writer.ConfigureAwait(false))
        {
            foreach (var image in images)
            {
                var stem = image.SourceIndex.ToString("D5", CultureInfo.InvariantCulture);
                var name = stem + ".png";
                await WriteMemberAsync(writer, name, image.Bytes, cancellationToken).ConfigureAwait(false);
                if (withLabels)
                {
                    await WriteMemberAsync(writer, stem + ".cls", Encoding.ASCII.GetBytes(image.Label.ToString(CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
                }

                names.Add(name);
            }
        }

        return names;
    }

    private static async Task WriteMemberAsync(TarWriter writer, string name, byte[] bytes, CancellationToken cancellationToken)
    {
        using var data = new MemoryStream(bytes, writable: false);
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = data,
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = MemberMode,
        };
        await writer.WriteEntryAsync(entry, cancellationToken).ConfigureAwait(false);
    }
}
