using System.Runtime.CompilerServices;
using System.Threading.Channels;
using KdData.Datasets;
using KdData.Imaging;
using KdData.Pipelines;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Training;

/// <summary>
/// Labeled images from any store, as batches, through bounded channels:
/// order (seeded shuffle per epoch) -> fetch bytes (N concurrent, via <see cref="ImageByteCache"/>)
/// -> decode + preprocess + augment (M workers) -> re-order and batch.
/// Every channel is bounded, so at most a few hundred images are in memory whatever the dataset
/// size, and the training step only waits when the CPU cannot keep up. Batches come out in the
/// epoch's shuffled order regardless of which worker finished first, so a run is reproducible.
/// A corrupt image is skipped, logged with its key and reason, and counted in <see cref="SkippedImages"/>.
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
    private long _skipped;

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

    /// <inheritdoc/>
    public async IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var epochSeed = Seeds.Mix(_seed, (ulong)epoch);
        var order = _shuffle ? Seeds.Permutation(_items.Count, epochSeed) : Enumerable.Range(0, _items.Count).ToArray();
        var capacity = _options.ChannelCapacity;
        var keys = Channel.CreateBounded<int>(new BoundedChannelOptions(capacity) { SingleWriter = true });
        var fetched = Channel.CreateBounded<(int Sequence, int Item, byte[]? Bytes)>(capacity);
        var decoded = Channel.CreateBounded<(int Sequence, int Item, float[]? Pixels)>(capacity);
        var batches = Channel.CreateBounded<LabeledBatch>(new BoundedChannelOptions(_options.PrefetchBatches) { SingleWriter = true, SingleReader = true });
        var decodeWorkers = _options.DecodeWorkers > 0 ? _options.DecodeWorkers : Environment.ProcessorCount;

        // The re-order buffer must stay bounded even when one image is slow (a retried fetch) while the
        // others race ahead: the list stage may run at most `window` items ahead of the batcher.
        using var window = new SemaphoreSlim(4 * capacity);
        var run = new PipelineRun(cancellationToken);
        await using var runScope = run.ConfigureAwait(false);
        run.Start("list", 1, keys.Writer, async ct =>
        {
            for (var sequence = 0; sequence < order.Length; sequence++)
            {
                await window.WaitAsync(ct).ConfigureAwait(false);
                await keys.Writer.WriteAsync(sequence, ct).ConfigureAwait(false);
            }
        });
        run.Start("fetch", _options.FetchConcurrency, fetched.Writer, async ct =>
        {
            await foreach (var sequence in keys.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var item = order[sequence];
                byte[]? bytes;
                try
                {
                    bytes = await _cache.GetAsync(_items[item].Key, ct).ConfigureAwait(false);
                }
                catch (ObjectNotFoundException)
                {
                    bytes = null; // listed in the manifest but gone from the store: skipped, not fatal
                }

                await fetched.Writer.WriteAsync((sequence, item, bytes), ct).ConfigureAwait(false);
            }
        });
        run.Start("decode", decodeWorkers, decoded.Writer, async ct =>
        {
            await foreach (var (sequence, item, bytes) in fetched.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var pixels = Decode(item, bytes, epochSeed);
                await decoded.Writer.WriteAsync((sequence, item, pixels), ct).ConfigureAwait(false);
            }
        });
        run.Start("batch", 1, batches.Writer, ct => BatchInOrderAsync(decoded.Reader, batches.Writer, window, ct));

        await foreach (var batch in run.ReadAllAsync(batches.Reader, cancellationToken).ConfigureAwait(false))
        {
            yield return batch;
        }

        await run.CompleteAsync().ConfigureAwait(false);
    }

    private float[]? Decode(int item, byte[]? bytes, ulong epochSeed)
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
            using var image = _decoder.Decode(bytes, key);
            var pixels = _preprocessor.Preprocess(image);
            var size = _preprocessor.OutputSize;
            return _augmentation?.Apply(pixels, _preprocessor.Channels, size, size, Seeds.Mix(epochSeed, (ulong)item)) ?? pixels;
        }
        catch (ImageDecodeException e)
        {
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping training image {Key}: {Reason} ({Detail})", e.Key, e.Reason, e.Detail);
            return null;
        }
    }

    private async Task BatchInOrderAsync(
        ChannelReader<(int Sequence, int Item, float[]? Pixels)> input,
        ChannelWriter<LabeledBatch> output,
        SemaphoreSlim window,
        CancellationToken cancellationToken)
    {
        // Workers finish out of order; hold early arrivals until their turn. Releasing the window per
        // item taken in order bounds the dictionary to the window's size.
        var pending = new Dictionary<int, (int Item, float[]? Pixels)>();
        var next = 0;
        var channels = _preprocessor.Channels;
        var size = _preprocessor.OutputSize;
        var sampleLength = _preprocessor.PayloadLength;
        var pixels = new List<float[]>(_batchSize);
        var labels = new List<long>(_batchSize);

        async ValueTask FlushAsync()
        {
            if (labels.Count == 0)
            {
                return;
            }

            var flat = new float[labels.Count * sampleLength];
            for (var i = 0; i < pixels.Count; i++)
            {
                pixels[i].CopyTo(flat, i * sampleLength);
            }

            await output.WriteAsync(new LabeledBatch(flat, [.. labels], channels, size, size), cancellationToken).ConfigureAwait(false);
            pixels.Clear();
            labels.Clear();
        }

        await foreach (var (sequence, item, sample) in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(sequence, (item, sample));
            while (pending.Remove(next, out var ready))
            {
                next++;
                window.Release();
                if (ready.Pixels is null)
                {
                    continue;
                }

                pixels.Add(ready.Pixels);
                labels.Add(_items[ready.Item].Label);
                if (labels.Count == _batchSize)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
        }

        await FlushAsync().ConfigureAwait(false);
    }
}
