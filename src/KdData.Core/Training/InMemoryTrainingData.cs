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
    private float[]? _teacherLogits;
    private int _teacherClasses;

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

    /// <summary>All samples, N*C*H*W values (not a copy).</summary>
    public ReadOnlyMemory<float> Pixels => _pixels;

    /// <summary>Class index per sample (not a copy).</summary>
    public ReadOnlyMemory<long> Labels => _labels;

    /// <summary>
    /// Attaches a teacher's logits (N*<paramref name="classes"/> values, in sample order) so every batch carries them,
    /// e.g. for teacher agreement on the evaluation set. Returns this instance.
    /// </summary>
    /// <exception cref="ArgumentException">The length does not match N.</exception>
    public InMemoryTrainingData WithTeacherLogits(float[] logits, int classes)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (logits.LongLength != (long)_labels.Length * classes)
        {
            throw new ArgumentException($"Teacher logits hold {logits.LongLength} values for {_labels.Length} samples of {classes} classes.", nameof(logits));
        }
        _teacherLogits = logits;
        _teacherClasses = classes;
        return this;
    }

    /// <summary>Reads every batch of <paramref name="source"/>'s epoch 1 into memory (e.g. a store-backed evaluation set).</summary>
    /// <exception cref="InvalidDataException">The source yielded nothing.</exception>
    public static async Task<InMemoryTrainingData> LoadAsync(ITrainingData source, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var pixels = new List<float>();
        var labels = new List<long>();
        int channels = 0, height = 0, width = 0;
        await foreach (var batch in source.ReadEpochAsync(1, cancellationToken).ConfigureAwait(false))
        {
            (channels, height, width) = (batch.Channels, batch.Height, batch.Width);
            pixels.AddRange(batch.Pixels);
            labels.AddRange(batch.Labels);
        }
        if (labels.Count == 0)
        {
            throw new InvalidDataException("The data source yielded no samples.");
        }
        return new InMemoryTrainingData([.. pixels], [.. labels], channels, height, width, batchSize);
    }

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
            var teacher = _teacherLogits is null ? null : new float[count * _teacherClasses];
            for (var i = 0; i < count; i++)
            {
                var index = order[start + i];
                Array.Copy(_pixels, (long)index * sampleSize, pixels, (long)i * sampleSize, sampleSize);
                labels[i] = _labels[index];
                if (teacher is not null)
                {
                    Array.Copy(_teacherLogits!, (long)index * _teacherClasses, teacher, (long)i * _teacherClasses, _teacherClasses);
                }
            }
            var batch = new LabeledBatch(pixels, labels, _channels, _height, _width);
            yield return teacher is null ? batch : batch.WithTeacher(teacher, _teacherClasses);
        }
    }
}
