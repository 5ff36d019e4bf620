using KdData.Augmentation;
using KdData.Datasets;
using KdData.Imaging;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Training;

/// <summary>
/// Labeled images from any store, as batches, through <see cref="OrderedBatchPipeline"/>:
/// order (seeded shuffle per epoch) -> fetch bytes (N concurrent, via <see cref="ImageByteCache"/>)
/// -> decode + preprocess + augment (M workers) -> re-order and batch.
/// Every channel is bounded, so at most a few hundred images are in memory whatever the dataset
/// size, and the training step only waits when the CPU cannot keep up. Batches come out in the
/// epoch's shuffled order regardless of which worker finished first, so a run is reproducible.
/// A corrupt image is skipped, logged with its key and reason, and counted in <see cref="SkippedImages"/>.
/// When the set fits in <see cref="TrainingDataOptions.HoldDecodedMegabytes"/>, each image's preprocessed pixels are
/// kept after its first decode, and later epochs only augment them (<see cref="HeldImages"/>).
/// </summary>
public sealed class StoreTrainingData : ITrainingData
{
    private readonly ImageByteCache _cache;
    private readonly IReadOnlyList<LabelRecord> _items;
    private readonly ImageDecoder _decoder;
    private readonly ImagePreprocessor _preprocessor;
    private readonly PaddedCropAugmentation? _augmentation;
    private readonly TrainingDataOptions _options;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly ulong _seed;
    private readonly ILogger _logger;
    private readonly OrderedBatchPipeline _pipeline;
    private readonly float[]?[]? _held;
    private long _skipped;
    private int _heldCount;

    // What FetchAsync hands on for an image that is held: nothing to read (compared by reference).
    private static readonly byte[] HeldMarker = new byte[1];

    /// <param name="cache">Where image bytes come from.</param>
    /// <param name="items">Keys and labels (one split of a manifest).</param>
    /// <param name="imageOptions">Decoding and preprocessing.</param>
    /// <param name="options">Pipeline settings and augmentation.</param>
    /// <param name="batchSize">Images per batch; the last batch of an epoch may be smaller.</param>
    /// <param name="training">True: shuffle each epoch and augment. False: dataset order, no augmentation (evaluation).</param>
    /// <param name="seed">Seed of shuffling and augmentation.</param>
    /// <param name="logger">Where skipped images are reported.</param>
    public StoreTrainingData(
        ImageByteCache cache,
        IReadOnlyList<LabelRecord> items,
        ImageOptions imageOptions,
        TrainingDataOptions options,
        int batchSize,
        bool training,
        ulong seed,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(imageOptions);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _cache = cache;
        _items = items;
        _decoder = new ImageDecoder(imageOptions);
        _preprocessor = new ImagePreprocessor(imageOptions);
        _options = options;
        _batchSize = batchSize;
        _shuffle = training;
        _seed = seed;
        _logger = logger ?? NullLogger.Instance;
        _pipeline = new OrderedBatchPipeline(options);
        var setBytes = (long)items.Count * _preprocessor.PayloadLength * sizeof(float);
        if (options.HoldDecodedMegabytes > 0 && setBytes <= (long)options.HoldDecodedMegabytes * 1024 * 1024)
        {
            _held = new float[]?[items.Count];
        }
        if (training && (options.CropPadding > 0 || options.HorizontalFlip))
        {
            // The fill is what a black pixel becomes after normalisation, i.e. true zero padding.
            var mean = imageOptions.GetEffectiveMean();
            var std = imageOptions.GetEffectiveStd();
            var fill = mean.Select((m, c) => -m / std[c]).ToArray();
            _augmentation = new PaddedCropAugmentation(options.CropPadding, options.HorizontalFlip, fill);
        }
    }

    /// <summary>Images listed for this set (including any that will turn out unreadable).</summary>
    public int Count => _items.Count;

    /// <inheritdoc/>
    public int BatchesPerEpoch => (_items.Count + _batchSize - 1) / _batchSize;

    /// <summary>Images skipped so far because they could not be read or decoded.</summary>
    public long SkippedImages => Interlocked.Read(ref _skipped);

    /// <summary>Images whose preprocessed pixels are held in memory (0 when the set is too large to hold).</summary>
    public int HeldImages => Volatile.Read(ref _heldCount);

    /// <inheritdoc/>
    public IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default)
    {
        var epochSeed = Seeds.Mix(_seed, (ulong)epoch);
        var order = _shuffle ? Seeds.Permutation(_items.Count, epochSeed) : Enumerable.Range(0, _items.Count).ToArray();
        return _pipeline.RunAsync(order, _batchSize, FetchAsync, (item, bytes) => Decode(item, bytes, epochSeed), Assemble, cancellationToken);
    }

    private async ValueTask<byte[]?> FetchAsync(int item, CancellationToken cancellationToken)
    {
        if (_held is not null && Volatile.Read(ref _held[item]) is not null)
        {
            return HeldMarker;
        }
        try
        {
            return await _cache.GetAsync(_items[item].Key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null; // listed in the manifest but gone from the store: skipped, not fatal
        }
    }

    private LabeledBatch Assemble(List<Sample> samples)
    {
        var sampleLength = _preprocessor.PayloadLength;
        var flat = new float[samples.Count * sampleLength];
        var labels = new long[samples.Count];
        for (var i = 0; i < samples.Count; i++)
        {
            samples[i].Pixels.CopyTo(flat, i * sampleLength);
            labels[i] = samples[i].Label;
        }

        var size = _preprocessor.OutputSize;
        return new LabeledBatch(flat, labels, _preprocessor.Channels, size, size);
    }

    private Sample? Decode(int item, byte[]? bytes, ulong epochSeed)
    {
        var key = _items[item].Key;
        if (bytes is null)
        {
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping training image {Key}: missing (in the manifest but not in the store)", key);
            return null;
        }

        try
        {
            var size = _preprocessor.OutputSize;
            float[] pixels;
            if (ReferenceEquals(bytes, HeldMarker))
            {
                pixels = _held![item]!;
            }
            else
            {
                using var image = _decoder.Decode(bytes, key);
                pixels = _preprocessor.Preprocess(image);
                // Augmentation copies, so the held array is never changed.
                if (_held is not null && Interlocked.CompareExchange(ref _held[item], pixels, null) is null)
                {
                    Interlocked.Increment(ref _heldCount);
                }
            }
            var augmented = _augmentation?.Apply(pixels, _preprocessor.Channels, size, size, Seeds.Mix(epochSeed, (ulong)item)) ?? pixels;
            return new Sample(augmented, _items[item].Label);
        }
        catch (ImageDecodeException e)
        {
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping training image {Key}: {Reason} ({Detail})", e.Key, e.Reason, e.Detail);
            return null;
        }
    }

    private sealed record Sample(float[] Pixels, long Label);
}
