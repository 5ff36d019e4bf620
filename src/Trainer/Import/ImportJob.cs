using System.Diagnostics;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Storage;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer import</c>: imports an IDX dataset (Fashion-MNIST by default) into a store,
/// split into a labeled set, an unlabeled pool and the test set (see <see cref="DatasetLayout"/>), as loose PNGs or
/// packed into Parquet or tar shards (<see cref="ImportOptions.Format"/>).
/// </summary>
public sealed class ImportJob : JobService
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(5);
    private readonly ObjectStoreFactory _stores;
    private readonly ImportOptions _options;

    public ImportJob(ObjectStoreFactory stores, IOptions<ImportOptions> options, IHostApplicationLifetime lifetime, JobOutcome outcome, ILogger<ImportJob> logger)
        : base(lifetime, outcome, logger)
    {
        _stores = stores;
        _options = options.Value;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var source = IdxImportOptions.FromDirectory(_options.Source);
        source.LabeledFraction = _options.LabeledFraction;
        source.Seed = _options.Seed;
        source.TrainLimit = _options.TrainLimit;
        source.TestLimit = _options.TestLimit;
        source.Concurrency = _options.Concurrency;
        source.Format = _options.Format;
        source.ShardSize = _options.ShardSize;
        source.RowGroupSize = _options.RowGroupSize;
        foreach (var name in KnownClassNames.ForPreset(_options.Classes) ?? [])
        {
            source.Classes.Add(name);
        }

        var destination = _stores.Open(_options.Destination);
        Logger.LogInformation(
            "Importing {Source} into {Destination} (labeled fraction {Fraction}, seed {Seed}, format {Format}{Shards})",
            _options.Source, destination.Location, _options.LabeledFraction, _options.Seed, DatasetDescriptor.FormatName(_options.Format),
            _options.Format == DatasetFormat.Loose ? "" : $", up to {_options.ShardSize} images per shard");
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        var progress = new SynchronousProgress<int>(done =>
        {
            var elapsed = clock.Elapsed;
            if (elapsed - lastReport >= ProgressInterval)
            {
                lastReport = elapsed;
                Logger.LogInformation("Imported {Done} images ({Rate:F0}/s)", done, done / elapsed.TotalSeconds);
            }
        });

        var descriptor = await new IdxDatasetImporter(destination).ImportAsync(source, progress, stoppingToken);
        Logger.LogInformation(
            "Imported into {Destination} in {Seconds:F1} s: {Labeled} labeled, {Pool} unlabeled, {Test} test images of {Width}x{Height}, {Classes} classes",
            destination.Location, clock.Elapsed.TotalSeconds, descriptor.LabeledCount, descriptor.PoolCount, descriptor.TestCount, descriptor.Width, descriptor.Height, descriptor.Classes.Count);
        return ExitCodes.Success;
    }
}
