namespace KdData.Training;

/// <summary>
/// Labeled images held in memory (CHW float samples), served in batches. With a shuffle seed every epoch is a
/// fresh permutation drawn from <c>seed + epoch</c>, so the order is reproducible per epoch (a resumed run
/// sees the same order as an uninterrupted one); without one the order is the stored order (evaluation).
/// The arrays are not copied; do not change them while the data is in use.
/// </summary>
public sealed class InMemoryTrainingData : ITrainingData
{
    private readonly float[] _pixels;
    private readonly long[] _labels;
    private readonly int _channels;
    private readonly int _height;
    private readonly int _width;
    private readonly int _batchSize;
    private readonly int? _shuffleSeed;

    /// <param name="pixels">All samples, N*C*H*W values.</param>
    /// <param name="labels">Class index per sample (N values).</param>
    /// <param name="channels">C.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="batchSize">Samples per batch; the last batch of an epoch may be smaller.</param>
    /// <param name="shuffleSeed">Seed of the per-epoch shuffle; <c>null</c> keeps the stored order.</param>
    /// <exception cref="ArgumentException">Empty data or lengths that do not match the shape.</exception>
    public InMemoryTrainingData(float[] pixels, long[] labels, int channels, int height, int width, int batchSize, int? shuffleSeed = null)
    {
        // Reuse the batch's shape validation for the whole set.
        _ = new LabeledBatch(pixels, labels, channels, height, width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (labels.Length == 0)
        {
            throw new ArgumentException("In-memory training data needs at least one sample.", nameof(labels));
        }
        _pixels = pixels;
        _labels = labels;
        _channels = channels;
        _height = height;
        _width = width;
        _batchSize = batchSize;
        _shuffleSeed = shuffleSeed;
    }

    /// <summary>Number of samples.</summary>
    public int Count => _labels.Length;

    /// <inheritdoc />
    public int BatchesPerEpoch => (_labels.Length + _batchSize - 1) / _batchSize;

    /// <inheritdoc />
    public IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default) =>
        ReadEpoch(epoch, cancellationToken).ToAsyncEnumerable();

    /// <summary>The sample order of <paramref name="epoch"/>: a seeded permutation, or the stored order.</summary>
    public int[] OrderOf(int epoch)
    {
        var order = Enumerable.Range(0, _labels.Length).ToArray();
        if (_shuffleSeed is { } seed)
        {
            // System.Random with an explicit seed is a stable algorithm across .NET versions.
            new Random(unchecked(seed + epoch)).Shuffle(order);
        }
        return order;
    }

    private IEnumerable<LabeledBatch> ReadEpoch(int epoch, CancellationToken cancellationToken)
    {
        var order = OrderOf(epoch);
        var sampleSize = _channels * _height * _width;
        for (var start = 0; start < order.Length; start += _batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(_batchSize, order.Length - start);
            var pixels = new float[count * sampleSize];
            var labels = new long[count];
            for (var i = 0; i < count; i++)
            {
                var index = order[start + i];
                Array.Copy(_pixels, (long)index * sampleSize, pixels, (long)i * sampleSize, sampleSize);
                labels[i] = _labels[index];
            }
            yield return new LabeledBatch(pixels, labels, _channels, _height, _width);
        }
    }
}
