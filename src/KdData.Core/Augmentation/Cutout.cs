namespace KdData.Augmentation;

/// <summary>
/// Cutout (DeVries and Taylor 2017, "Improved Regularization of Convolutional Neural Networks with Cutout",
/// arXiv:1708.04552): one square of side <c>round(fraction * min(H, W))</c>, centred on a uniformly drawn pixel and
/// clipped at the borders, is set to black. FixMatch's strong view ends with it (Sohn et al. 2020, section 2.3).
/// The draw depends only on the sample's seed, so a run replays exactly.
/// </summary>
public sealed class Cutout
{
    private readonly double _fraction;
    private readonly float[] _fill;

    /// <param name="fraction">Side of the square as a share of the shorter image side, in [0, 1]; 0 = no cutout.</param>
    /// <param name="fill">Per-channel fill value (the normalised value of a black pixel).</param>
    public Cutout(double fraction, IReadOnlyList<float> fill)
    {
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The cutout side must be a share of the image side in [0, 1].");
        }
        ArgumentNullException.ThrowIfNull(fill);
        _fraction = fraction;
        _fill = [.. fill];
    }

    /// <summary>The square's bounds for an image of <paramref name="height"/> x <paramref name="width"/>: [x0, x1) x [y0, y1), clipped.</summary>
    public (int X0, int Y0, int X1, int Y1) Draw(int height, int width, ulong seed)
    {
        var side = (int)Math.Round(_fraction * Math.Min(height, width));
        var draws = new SeededDraws(seed);
        var cx = draws.NextInt(width);
        var cy = draws.NextInt(height);
        var half = side / 2;
        return (Math.Max(cx - half, 0), Math.Max(cy - half, 0), Math.Min(cx - half + side, width), Math.Min(cy - half + side, height));
    }

    /// <summary>A copy of <paramref name="chw"/> (C x H x W, normalised) with the square drawn from <paramref name="seed"/> blacked out.</summary>
    public float[] Apply(float[] chw, int channels, int height, int width, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(chw);
        if (chw.Length != channels * height * width)
        {
            throw new ArgumentException($"Payload has {chw.Length} values, not {channels}x{height}x{width}.", nameof(chw));
        }

        var output = (float[])chw.Clone();
        var (x0, y0, x1, y1) = Draw(height, width, seed);
        for (var c = 0; c < channels; c++)
        {
            var fill = _fill[Math.Min(c, _fill.Length - 1)];
            for (var y = y0; y < y1; y++)
            {
                output.AsSpan((c * height * width) + (y * width) + x0, x1 - x0).Fill(fill);
            }
        }
        return output;
    }
}
