using System.Collections.Concurrent;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Storage;
using Microsoft.Extensions.Options;

namespace KdData.Labeler;

/// <summary>
/// Lists every object under <see cref="LabelerOptions.Input"/>, fetches and decodes it, and reports
/// how many images decoded (by format and size) and which failed with which reason. It is the
/// Labeler's first stages without the teacher: a dry run that proves storage access and decoding.
/// </summary>
public sealed class InventoryJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly LabelerOptions _options;
    private readonly ImageOptions _imageOptions;

    public InventoryJob(
        ObjectStoreFactory stores,
        IOptions<LabelerOptions> options,
        IOptions<ImageOptions> imageOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILogger<InventoryJob> logger)
        : base(lifetime, outcome, logger)
    {
        _stores = stores;
        _options = options.Value;
        _imageOptions = imageOptions.Value;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var store = _stores.Open(_options.Input);
        var decoder = new ImageDecoder(_imageOptions);
        var decoded = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var failed = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Logger.LogInformation("Listing and decoding images under {Input}", store.Location);

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.FetchConcurrency, CancellationToken = stoppingToken };
        await Parallel.ForEachAsync(store.ListAllAsync(cancellationToken: stoppingToken), parallel, async (item, ct) =>
        {
            var bytes = await store.ReadAllBytesAsync(item.Key, ct);
            try
            {
                using var image = decoder.Decode(bytes, item.Key);
                decoded.AddOrUpdate($"{image.Format} {image.Width}x{image.Height}", 1, (_, n) => n + 1);
            }
            catch (ImageDecodeException e)
            {
                Logger.LogWarning("{Key}: {Reason} ({Detail})", e.Key, e.Reason, e.Detail);
                failed.AddOrUpdate(e.Reason, 1, (_, n) => n + 1);
            }
        });

        foreach (var (kind, count) in decoded.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            Logger.LogInformation("Decoded {Count} images: {Kind}", count, kind);
        }

        foreach (var (reason, count) in failed.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            Logger.LogWarning("Failed {Count} images: {Reason}", count, reason);
        }

        Logger.LogInformation("Inventory of {Input}: {Decoded} decoded, {Failed} failed", store.Location, decoded.Values.Sum(), failed.Values.Sum());
        return ExitCodes.Success;
    }
}
