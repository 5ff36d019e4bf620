using System.Diagnostics;

namespace KdData.Augmentation;

/// <summary>
/// CIFAR-style augmentation on a preprocessed CHW payload: a random crop of the zero-padded image
/// (equivalently, a shift by up to <c>padding</c> pixels, filling with what black normalises to)
/// and a random horizontal flip. The draw depends only on the sample's seed, so a run replays exactly.
/// </summary>
public sealed class PaddedCropAugmentation
{
    private readonly int _padding;
    private readonly bool _flip;
    private readonly float[] _fill;

    /// <param name="padding">Maximum shift in pixels.</param>
    /// <param name="flip">Whether to flip half of the samples.</param>
    /// <param name="fill">Per-channel fill value (the normalised value of a black pixel).</param>
    public PaddedCropAugmentation(int padding, bool flip, IReadOnlyList<float> fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ArgumentNullException.ThrowIfNull(fill);
        _padding = padding;
        _flip = flip;
        _fill = [.. fill];
    }

    /// <summary>True when the augmentation changes anything.</summary>
    public bool IsActive => _padding > 0 || _flip;

    /// <summary>Returns the augmented copy of <paramref name="chw"/> (C x H x W), drawn from <paramref name="seed"/>.</summary>
    public float[] Apply(float[] chw, int channels, int height, int width, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(chw);
        Debug.Assert(chw.Length == channels * height * width, "payload length must match C*H*W");
        if (!IsActive)
        {
            return chw;
        }

        var (dx, dy, flip) = Draw(seed);
        var output = new float[chw.Length];
        for (var c = 0; c < channels; c++)
        {
            var fill = _fill[Math.Min(c, _fill.Length - 1)];
            var plane = c * height * width;
            for (var y = 0; y < height; y++)
            {
                var sy = y + dy;
                for (var x = 0; x < width; x++)
                {
                    // Output (x, y) shows source (x + dx, y + dy) of the padded image; flipped after the crop.
                    var ox = flip ? width - 1 - x : x;
                    var sx = x + dx;
                    output[plane + (y * width) + ox] = sx >= 0 && sx < width && sy >= 0 && sy < height ? chw[plane + (sy * width) + sx] : fill;
                }
            }
        }

        return output;
    }

    /// <summary>The (dx, dy, flip) drawn for <paramref name="seed"/>; exposed for tests and replay.</summary>
    internal (int Dx, int Dy, bool Flip) Draw(ulong seed)
    {
        var r1 = Seeds.Mix(seed, 1);
        var dx = _padding == 0 ? 0 : (int)(r1 % (ulong)((2 * _padding) + 1)) - _padding;
        var dy = _padding == 0 ? 0 : (int)((r1 >> 32) % (ulong)((2 * _padding) + 1)) - _padding;
        return (dx, dy, _flip && (Seeds.Mix(seed, 2) & 1) == 1);
    }
}
