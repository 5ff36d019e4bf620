namespace KdData.Training;

/// <summary>
/// A batch of labeled images ready for a network: <see cref="Pixels"/> holds <see cref="Count"/> samples of
/// <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/> floats each (CHW per sample, already
/// preprocessed), <see cref="Labels"/> the class index of each sample.
/// </summary>
public sealed class LabeledBatch
{
    /// <exception cref="ArgumentException">The array lengths do not match the stated shape.</exception>
    public LabeledBatch(float[] pixels, long[] labels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var sampleSize = (long)channels * height * width;
        if (pixels.LongLength != labels.LongLength * sampleSize)
        {
            throw new ArgumentException(
                $"Batch pixels hold {pixels.LongLength} values but {labels.LongLength} labels of {channels}x{height}x{width} need {labels.LongLength * sampleSize}.",
                nameof(pixels));
        }
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>N*C*H*W values, sample-major, CHW within a sample.</summary>
#pragma warning disable CA1819 // The batch is a plain buffer handed to a tensor; copying it would defeat the point.
    public float[] Pixels { get; }

    /// <summary>Class index of each sample, length <see cref="Count"/>.</summary>
    public long[] Labels { get; }
#pragma warning restore CA1819

    /// <summary>Number of samples (N).</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per sample (C).</summary>
    public int Channels { get; }

    /// <summary>Height in pixels (H).</summary>
    public int Height { get; }

    /// <summary>Width in pixels (W).</summary>
    public int Width { get; }
}
