using System.IO.Compression;
using KdData.Datasets;
using KdData.Tests.Datasets;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using SkiaSharp;

namespace KdData.Tests.Trainer;

/// <summary>
/// The committed Fashion-MNIST sample turned back into IDX files (its 600 train images, labeled and pool, and 200 test
/// images, pixels decoded from the PNGs) and imported by the real <c>import</c> command once per format: loose, Parquet
/// and tar, with the sample's own split (20 % labeled, seed 42). The same images under three layouts, so the Fashion-MNIST
/// teacher can be run on each and the results compared.
/// </summary>
public sealed class PackedSampleDatasets : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();

    public string Root => _directory.Path;

    /// <summary>The dataset root of <paramref name="format"/>, with a trailing separator.</summary>
    public string Dataset(DatasetFormat format) => Path.Combine(Root, "datasets", format.ToString().ToLowerInvariant()) + Path.DirectorySeparatorChar;

    public string IdxFolder => Path.Combine(Root, "idx");

    public int[] ImportExitCodes { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var sample = SampleDistillation.DatasetFolder;
        var manifest = await DatasetManifest.ReadAsync(await File.ReadAllBytesAsync(Path.Combine(sample, DatasetLayout.ManifestKey)), "manifest");
        var pool = await DatasetManifest.ReadAsync(await File.ReadAllBytesAsync(Path.Combine(sample, DatasetLayout.PoolLabelsKey)), "pool");
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).Concat(pool).OrderBy(r => IndexOf(r.Key)).ToList();
        var test = manifest.Where(r => r.Split == DatasetSplits.Test).OrderBy(r => IndexOf(r.Key)).ToList();
        Assert.Equal(Enumerable.Range(0, 600), train.Select(r => IndexOf(r.Key)));
        Directory.CreateDirectory(IdxFolder);
        WriteSet(sample, "train", train);
        WriteSet(sample, "t10k", test);

        ImportExitCodes =
        [
            await ImportAsync(DatasetFormat.Loose),
            await ImportAsync(DatasetFormat.Parquet, "--format", "parquet", "--shard-size", "256"),
            await ImportAsync(DatasetFormat.Tar, "--format", "TAR", "--shard-size", "256"),
        ];
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _directory.Dispose();

    private Task<int> ImportAsync(DatasetFormat format, params string[] args) =>
        TrainerCommandLine.RunAsync(
            ["import", "--source", IdxFolder, "--dest", "file:" + Dataset(format), "--labeled-fraction", "0.2", "--seed", "42", .. args],
            TextWriter.Null, TextWriter.Null);

    private static int IndexOf(string key) => int.Parse(Path.GetFileNameWithoutExtension(key), System.Globalization.CultureInfo.InvariantCulture);

    private void WriteSet(string sample, string prefix, List<LabelRecord> rows)
    {
        const int side = 28;
        var pixels = new byte[rows.Count * side * side];
        for (var i = 0; i < rows.Count; i++)
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(sample, rows[i].Key));
            for (var p = 0; p < side * side; p++)
            {
                pixels[(i * side * side) + p] = bitmap.GetPixel(p % side, p / side).Red;
            }
        }

        Write(Path.Combine(IdxFolder, $"{prefix}-images-idx3-ubyte.gz"), IdxReaderTests.MakeIdx([rows.Count, side, side], pixels));
        Write(Path.Combine(IdxFolder, $"{prefix}-labels-idx1-ubyte.gz"), IdxReaderTests.MakeIdx([rows.Count], [.. rows.Select(r => (byte)r.Label)]));
    }

    private static void Write(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(bytes);
    }
}
