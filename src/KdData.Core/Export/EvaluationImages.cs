namespace KdData.Export;

/// <summary>Preprocessed images (N x C x H x W floats, contiguous) with their labels, held in memory for evaluation and timing.</summary>
public sealed class EvaluationImages
{
    public EvaluationImages(float[] pixels, long[] labels, int channels, int height, int width, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        if (pixels.Length != (long)labels.Length * channels * height * width)
        {
            throw new ArgumentException($"{labels.Length} images of {channels}x{height}x{width} need {(long)labels.Length * channels * height * width} values; got {pixels.Length}.", nameof(pixels));
        }
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        NumClasses = numClasses;
    }

    public float[] Pixels { get; }

    /// <summary>True labels; all -1 for inputs without labels (random timing inputs).</summary>
    public long[] Labels { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int NumClasses { get; }

    public int Count => Labels.Length;

    public int ImageSize => Channels * Height * Width;

    /// <summary>Whether <see cref="Labels"/> are real (accuracy can be computed).</summary>
    public bool Labeled => Labels.Length > 0 && Labels[0] >= 0;

    /// <summary>Seeded standard-normal inputs (what a normalised image roughly looks like), unlabeled.</summary>
    public static EvaluationImages Random(int count, int channels, int height, int width, int numClasses, int seed)
    {
        var random = new Random(seed);
        var pixels = new float[count * channels * height * width];
        for (var i = 0; i < pixels.Length; i++)
        {
            // Box-Muller.
            var u = 1.0 - random.NextDouble();
            pixels[i] = (float)(Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * random.NextDouble()));
        }
        return new EvaluationImages(pixels, Enumerable.Repeat(-1L, count).ToArray(), channels, height, width, numClasses);
    }

    /// <summary>The first <paramref name="count"/> images' pixels, repeating from the start when there are fewer.</summary>
    public float[] Batch(int count)
    {
        var batch = new float[count * ImageSize];
        for (var i = 0; i < count; i++)
        {
            Array.Copy(Pixels, (i % Count) * ImageSize, batch, i * ImageSize, ImageSize);
        }
        return batch;
    }
}
