using System.Runtime.CompilerServices;
using System.Threading.Channels;
using KdData.Dataflow;

namespace KdData.Training;

/// <summary>
/// The channel pipeline behind every store-backed training source: a fixed sequence of items
/// -> fetch bytes (N concurrent) -> decode + preprocess + augment (M workers) -> re-order -> batches of
/// consecutive items. Every channel is bounded, so at most a few hundred images are in memory whatever the data
/// size, and batches come out in sequence order regardless of which worker finished first, so a run is
/// reproducible. An item whose fetch or decode yields null is dropped (its batch is one smaller).
/// </summary>
/// <remarks>Shared by <see cref="StoreTrainingData"/> (labeled images) and the distillation source, which differ only
/// in what an item is, how it is decoded and how a batch is assembled.</remarks>
public sealed class OrderedBatchPipeline
{
    private readonly TrainingDataOptions _options;

    /// <param name="options">Concurrency, channel capacity and prefetch depth.</param>
    public OrderedBatchPipeline(TrainingDataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>
    /// Runs the items of <paramref name="sequence"/> through fetch and decode and yields one batch per
    /// <paramref name="batchSize"/> consecutive items (the last may be smaller).
    /// </summary>
    /// <param name="sequence">Items in the order they are batched.</param>
    /// <param name="batchSize">Consecutive items per batch.</param>
    /// <param name="fetch">Bytes of an item, or null to drop it; called concurrently.</param>
    /// <param name="decode">Decoded sample of an item, or null to drop it; called concurrently from worker threads.</param>
    /// <param name="assemble">Builds a batch from the decoded samples of one chunk, in order; called on one thread.</param>
    /// <param name="cancellationToken">Stops the pipeline.</param>
    public async IAsyncEnumerable<LabeledBatch> RunAsync<TItem, TDecoded>(
        IReadOnlyList<TItem> sequence,
        int batchSize,
        Func<TItem, CancellationToken, ValueTask<byte[]?>> fetch,
        Func<TItem, byte[]?, TDecoded?> decode,
        Func<List<TDecoded>, LabeledBatch> assemble,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TDecoded : class
    {
        ArgumentNullException.ThrowIfNull(sequence);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(fetch);
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentNullException.ThrowIfNull(assemble);
        var capacity = _options.ChannelCapacity;
        var indices = Channel.CreateBounded<int>(new BoundedChannelOptions(capacity) { SingleWriter = true });
        var fetched = Channel.CreateBounded<(int Sequence, byte[]? Bytes)>(capacity);
        var decoded = Channel.CreateBounded<(int Sequence, TDecoded? Sample)>(capacity);
        var batches = Channel.CreateBounded<LabeledBatch>(new BoundedChannelOptions(_options.PrefetchBatches) { SingleWriter = true, SingleReader = true });
        var decodeWorkers = _options.DecodeWorkers > 0 ? _options.DecodeWorkers : Environment.ProcessorCount;

        // The re-order buffer must stay bounded even when one image is slow (a retried fetch) while the
        // others race ahead: the list stage may run at most `window` items ahead of the batcher.
        using var window = new SemaphoreSlim(4 * capacity);
        var run = new StagedRun(cancellationToken);
        await using var runScope = run.ConfigureAwait(false);
        run.Start("list", 1, indices.Writer, async ct =>
        {
            for (var i = 0; i < sequence.Count; i++)
            {
                await window.WaitAsync(ct).ConfigureAwait(false);
                await indices.Writer.WriteAsync(i, ct).ConfigureAwait(false);
            }
        });
        run.Start("fetch", _options.FetchConcurrency, fetched.Writer, async ct =>
        {
            await foreach (var i in indices.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var bytes = await fetch(sequence[i], ct).ConfigureAwait(false);
                await fetched.Writer.WriteAsync((i, bytes), ct).ConfigureAwait(false);
            }
        });
        run.Start("decode", decodeWorkers, decoded.Writer, async ct =>
        {
            await foreach (var (i, bytes) in fetched.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                await decoded.Writer.WriteAsync((i, decode(sequence[i], bytes)), ct).ConfigureAwait(false);
            }
        });
        run.Start("batch", 1, batches.Writer, ct => BatchInOrderAsync(decoded.Reader, batches.Writer, window, batchSize, assemble, ct));

        await foreach (var batch in run.ReadAllAsync(batches.Reader, cancellationToken).ConfigureAwait(false))
        {
            yield return batch;
        }

        await run.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task BatchInOrderAsync<TDecoded>(
        ChannelReader<(int Sequence, TDecoded? Sample)> input,
        ChannelWriter<LabeledBatch> output,
        SemaphoreSlim window,
        int batchSize,
        Func<List<TDecoded>, LabeledBatch> assemble,
        CancellationToken cancellationToken)
        where TDecoded : class
    {
        // Workers finish out of order; hold early arrivals until their turn. Releasing the window per
        // item taken in order bounds the dictionary to the window's size.
        var pending = new Dictionary<int, TDecoded?>();
        var next = 0;
        var chunk = new List<TDecoded>(batchSize);

        async ValueTask FlushAsync()
        {
            if (chunk.Count > 0)
            {
                await output.WriteAsync(assemble(chunk), cancellationToken).ConfigureAwait(false);
                chunk.Clear();
            }
        }

        await foreach (var (sequence, sample) in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            pending.Add(sequence, sample);
            while (pending.Remove(next, out var ready))
            {
                next++;
                window.Release();
                if (ready is not null)
                {
                    chunk.Add(ready);
                }

                // Chunks follow sequence positions, not surviving items, so a dropped image never shifts
                // the later batches' composition (the distillation source relies on it for its mixing ratio).
                if (next % batchSize == 0)
                {
                    await FlushAsync().ConfigureAwait(false);
                }
            }
        }

        await FlushAsync().ConfigureAwait(false);
    }
}
