using System.Formats.Tar;
using System.Globalization;
using System.Text;
using KdData.Datasets;
using KdData.PackedImages;
using KdData.Storage;
using Parquet;
using Parquet.Schema;

namespace KdData.Bench;

/// <summary>
/// The packed inputs of <c>packed</c>: the first N Fashion-MNIST train images, encoded to PNG exactly as
/// <see cref="IdxDatasetImporter"/> encodes the loose blobs (same bytes), cut into files of a fixed number of images and
/// written as Parquet image tables (<c>image</c> binary, <c>label</c> int, Parquet.Net's default Snappy codec, row groups
/// of a fixed size) or WebDataset tar shards (ustar, <c>NNNNN.png</c> + <c>NNNNN.cls</c> per image, NNNNN the train
/// index). The files are written to a folder outside the work tree once and reused by later runs with the same shape;
/// neither writing nor uploading is measured.
/// </summary>
internal static class PackedShards
{
    /// <summary>Written last into a folder of packed files: a folder without it was interrupted and is written again.</summary>
    private const string CompleteMarker = "complete";

    /// <summary>A fixed modification time, so the same images always give the same tar bytes.</summary>
    private static readonly DateTimeOffset MemberTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The files of <paramref name="images"/> images in files of <paramref name="shardImages"/>, in key order.</summary>
    public static IReadOnlyList<PackedFile> Plan(string kind, int images, int shardImages)
    {
        var files = new List<PackedFile>();
        for (var first = 0; first < images; first += shardImages)
        {
            files.Add(new PackedFile(
                string.Create(CultureInfo.InvariantCulture, $"shard-{files.Count:D5}.{kind}"), first, Math.Min(shardImages, images - first)));
        }

        return files;
    }

    /// <summary>
    /// The image keys the Labeler gives the members of <paramref name="file"/>: <c>&lt;file&gt;#&lt;row index&gt;</c> for
    /// Parquet (the row over the whole file), <c>&lt;file&gt;#&lt;member name&gt;</c> for tar.
    /// </summary>
    public static IEnumerable<string> MemberKeys(string kind, PackedFile file) => Enumerable.Range(0, file.Count).Select(i => PackedFormats.MemberKey(
        file.Name,
        kind == PackedBenchKinds.Parquet ? i.ToString(CultureInfo.InvariantCulture) : TarStem(file.First + i) + ".png"));

    /// <summary>
    /// Writes the files of <paramref name="files"/> as <paramref name="kind"/> under <paramref name="folder"/> unless a
    /// complete set is already there; returns whether they were written now.
    /// </summary>
    public static async Task<bool> EnsureAsync(
        string kind, string folder, IReadOnlyList<PackedFile> files, int rowGroup, Func<Task<(IdxArray Images, IdxArray Labels)>> train, CancellationToken cancellationToken = default)
    {
        if (File.Exists(Path.Combine(folder, CompleteMarker)))
        {
            return false;
        }

        Directory.CreateDirectory(folder);
        var (images, labels) = await train();
        foreach (var file in files)
        {
            var path = Path.Combine(folder, file.Name);
            await using var stream = File.Create(path);
            if (kind == PackedBenchKinds.Parquet)
            {
                await WriteParquetAsync(stream, images, labels, file, rowGroup, cancellationToken);
            }
            else
            {
                await WriteTarAsync(stream, images, labels, file, cancellationToken);
            }
        }

        await File.WriteAllTextAsync(Path.Combine(folder, CompleteMarker), string.Join('\n', files.Select(f => f.Name)), cancellationToken);
        return true;
    }

    /// <summary>
    /// Uploads the files of <paramref name="folder"/> to <paramref name="store"/> under their names, but for those already
    /// there with the same size (kept by an earlier run; their bytes come from the same images); returns how many were uploaded.
    /// </summary>
    public static async Task<int> UploadAsync(IObjectStore store, string folder, IReadOnlyList<PackedFile> files, CancellationToken cancellationToken = default)
    {
        var uploaded = 0;
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(Path.Combine(folder, file.Name));
            try
            {
                if ((await store.GetPropertiesAsync(file.Name, cancellationToken)).Size == stream.Length)
                {
                    continue;
                }

                // An upload of another shape under the same name cannot happen (the location names the shape); a stray
                // file is replaced.
                await store.DeleteAsync(file.Name, cancellationToken);
            }
            catch (Exception e) when (e is ObjectNotFoundException or StoreNotFoundException)
            {
                // Not uploaded yet.
            }

            await store.CreateAsync(file.Name, stream, cancellationToken);
            uploaded++;
        }

        return uploaded;
    }

    private static async Task WriteParquetAsync(Stream stream, IdxArray images, IdxArray labels, PackedFile file, int rowGroup, CancellationToken cancellationToken)
    {
        var image = new DataField<byte[]>("image");
        var label = new DataField<int>("label");
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(image, label), stream, cancellationToken: cancellationToken);
        for (var first = file.First; first < file.First + file.Count; first += rowGroup)
        {
            var rows = Enumerable.Range(first, Math.Min(rowGroup, file.First + file.Count - first)).ToArray();
            using var group = writer.CreateRowGroup();
            // The binary overload takes no token; a row group is ~1,000 small images.
            await group.WriteAsync(image, rows.Select(i => IdxDatasetImporter.EncodePng(images, i)).ToArray(), null);
            await group.WriteAsync<int>(label, rows.Select(i => (int)labels.Data.Span[i]).ToArray(), null, null, cancellationToken);
        }
    }

    private static async Task WriteTarAsync(Stream stream, IdxArray images, IdxArray labels, PackedFile file, CancellationToken cancellationToken)
    {
        await using var writer = new TarWriter(stream, TarEntryFormat.Ustar, leaveOpen: true);
        for (var i = file.First; i < file.First + file.Count; i++)
        {
            var stem = TarStem(i);
            await WriteMemberAsync(writer, stem + ".png", IdxDatasetImporter.EncodePng(images, i), cancellationToken);
            await WriteMemberAsync(writer, stem + ".cls", Encoding.ASCII.GetBytes(labels.Data.Span[i].ToString(CultureInfo.InvariantCulture)), cancellationToken);
        }
    }

    private static async Task WriteMemberAsync(TarWriter writer, string name, byte[] data, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(data, writable: false);
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = content, ModificationTime = MemberTime };
        await writer.WriteEntryAsync(entry, cancellationToken);
    }

    /// <summary>WebDataset sample key of train image <paramref name="index"/>: five digits (more above 99,999), so names sort as the images do.</summary>
    private static string TarStem(int index) => index.ToString("D5", CultureInfo.InvariantCulture);
}
