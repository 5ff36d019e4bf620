using System.Diagnostics;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Storage;

namespace KdData.Bench;

/// <summary>
/// Puts the first N Fashion-MNIST train images, as PNGs, under <c>unlabeled/</c> of a store (the layout of
/// <see cref="IdxDatasetImporter"/> with no labeled share). The import is not part of any measurement.
/// </summary>
internal static class BenchDataset
{
    /// <summary>The folder, relative to the dataset root, the Labeler reads.</summary>
    public const string Pool = DatasetLayout.UnlabeledPrefix;

    /// <summary>Imports into <paramref name="store"/> unless an identical import is already there; returns the seconds it took.</summary>
    public static async Task<double> EnsureAsync(IObjectStore store, string idxDirectory, int images, CancellationToken cancellationToken = default)
    {
        var options = IdxImportOptions.FromDirectory(idxDirectory);
        options.LabeledFraction = 0;
        options.TrainLimit = images;
        // The importer always writes test images too; one is the least it accepts as a limit.
        options.TestLimit = 1;
        options.Concurrency = 16;
        var clock = Stopwatch.StartNew();
        var lastReport = Stopwatch.StartNew();
        var progress = new SynchronousProgress<int>(written =>
        {
            if (lastReport.Elapsed.TotalSeconds >= 10)
            {
                lastReport.Restart();
                Console.WriteLine($"  importing into {store.Location}: {written}/{images + 1}");
            }
        });
        var descriptor = await new IdxDatasetImporter(store).ImportAsync(options, progress, cancellationToken);
        Debug.Assert(descriptor.PoolCount == images, "every imported train image is in the pool");
        return clock.Elapsed.TotalSeconds;
    }
}
