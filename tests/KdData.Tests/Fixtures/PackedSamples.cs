using System.Diagnostics;
using System.Globalization;

namespace KdData.Tests.Fixtures;

/// <summary>
/// Packed files made by other tools from the committed sample images: Parquet tables written by DuckDB (plain binary
/// or the Hugging Face <c>datasets</c> struct layout) and tar archives written by the system's <c>tar</c>. Image
/// <c>i</c> gets the label <c>i % 10</c>, so a reader's labels can be checked against the member's position.
/// </summary>
internal static class PackedSamples
{
    /// <summary>The label the samples give image <paramref name="index"/>.</summary>
    public static int LabelOf(int index) => index % 10;

    /// <summary>Writes sample images <paramref name="first"/>.. as PNG files named <c>s&lt;index&gt;_l&lt;label&gt;.png</c> under a new folder.</summary>
    public static string WriteImages(string folder, int first, int count)
    {
        Directory.CreateDirectory(folder);
        for (var i = first; i < first + count; i++)
        {
            File.WriteAllBytes(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"s{i:D5}_l{LabelOf(i)}.png")), LabelerSamples.Image(i));
        }

        return folder;
    }

    /// <summary>
    /// A Parquet image table written by DuckDB from the PNG files in <paramref name="imageFolder"/> (in name order):
    /// <c>image</c> as BLOB, or as the struct <c>{bytes, path}</c> when <paramref name="datasetsLayout"/>, and an
    /// integer <c>label</c> column unless <paramref name="withLabels"/> is false.
    /// </summary>
    public static async Task WriteParquetAsync(string imageFolder, string path, bool datasetsLayout, int rowGroupSize, bool withLabels = true, string labelType = "INTEGER")
    {
        var duckDb = await DuckDbRunner.GetAsync();
        var glob = DuckDbRunner.Literal(Path.Combine(imageFolder, "*.png"));
        var image = datasetsLayout ? "{'bytes': content, 'path': parse_filename(filename)}" : "content";
        var label = withLabels ? $", CAST(regexp_extract(filename, '_l([0-9]+)\\.png$', 1) AS {labelType}) AS label" : "";
        await duckDb.QueryAsync(
            $"COPY (SELECT {image} AS image{label} FROM read_blob({glob}) ORDER BY filename) " +
            $"TO {DuckDbRunner.Literal(path)} (FORMAT parquet, ROW_GROUP_SIZE {rowGroupSize.ToString(CultureInfo.InvariantCulture)})");
    }

    /// <summary>
    /// A Parquet image table written by Parquet.Net with row groups of exactly <paramref name="rowGroupSize"/> rows (DuckDB
    /// rounds row groups up to its 2,048-row vectors, too coarse for small tests of row-group skipping).
    /// </summary>
    public static async Task WriteParquetRowGroupsAsync(string path, int count, int rowGroupSize)
    {
        var image = new Parquet.Schema.DataField<byte[]>("image");
        var label = new Parquet.Schema.DataField<int>("label");
        await using var stream = File.Create(path);
        await using var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(image, label), stream);
        for (var first = 0; first < count; first += rowGroupSize)
        {
            var rows = Enumerable.Range(first, Math.Min(rowGroupSize, count - first)).ToArray();
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(image, rows.Select(LabelerSamples.Image).ToArray(), null);
            await group.WriteAsync<int>(label, rows.Select(LabelOf).ToArray(), null, null, CancellationToken.None);
        }
    }

    /// <summary>
    /// A WebDataset tar written by the system's <c>tar</c>: per image <c>NNNNN.png</c> and <c>NNNNN.cls</c> (its label as
    /// text), in name order. Returns the image member names in archive order.
    /// </summary>
    public static async Task<IReadOnlyList<string>> WriteTarAsync(string staging, string path, int first, int count, bool withLabels = true)
    {
        Directory.CreateDirectory(staging);
        var members = new List<string>();
        for (var i = first; i < first + count; i++)
        {
            var stem = i.ToString("D5", CultureInfo.InvariantCulture);
            await File.WriteAllBytesAsync(Path.Combine(staging, stem + ".png"), LabelerSamples.Image(i));
            members.Add(stem + ".png");
            if (withLabels)
            {
                await File.WriteAllTextAsync(Path.Combine(staging, stem + ".cls"), LabelOf(i).ToString(CultureInfo.InvariantCulture) + "\n");
                members.Add(stem + ".cls");
            }
        }

        await RunTarAsync(path, staging, members.Order(StringComparer.Ordinal));
        return [.. members.Where(m => m.EndsWith(".png", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }

    /// <summary>Runs <c>tar -cf path -C folder members…</c>.</summary>
    public static async Task RunTarAsync(string path, string folder, IEnumerable<string> members)
    {
        var start = new ProcessStartInfo("tar") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-cf", path, "-C", folder }.Concat(members))
        {
            start.ArgumentList.Add(argument);
        }

        using var tar = Process.Start(start)!;
        var error = await tar.StandardError.ReadToEndAsync();
        await tar.WaitForExitAsync();
        Assert.True(tar.ExitCode == 0, "tar failed: " + error);
    }
}
