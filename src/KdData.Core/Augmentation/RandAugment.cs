namespace KdData.Augmentation;

/// <summary>
/// Label-preserving RandAugment (Cubuk et al. 2020, "RandAugment: Practical automated data augmentation with a reduced
/// search space"): N operations drawn uniformly (with replacement) from a fixed list, each at the one global magnitude
/// M (0-10), applied to a preprocessed CHW payload. Signed operations take a random sign. Every draw comes from the
/// sample's seed, so a run replays exactly.
/// </summary>
/// <remarks>
/// <para>Operations, with their strength at M = 10 (linear in M): identity; rotate +-30 degrees; shear x / y +-0.3;
/// translate x / y +-30 % of the side; brightness, contrast and sharpness factors 1 +- 0.9; posterize to 4 bits;
/// auto-contrast. Geometric operations sample bilinearly around the centre and fill with black (the background of
/// Fashion-MNIST and MNIST).</para>
/// <para>Left out because they do not keep the class on the image sets this project trains on (black-background
/// grayscale): invert and solarize (swap foreground and background polarity, which no test image has), equalize
/// (stretches a mostly-black histogram into a bright, noisy background), colour (nothing to do in grayscale);
/// flips are not RandAugment operations here (mirroring is <c>Trainer:Data:HorizontalFlip</c> /
/// <c>Trainer:Distill:Mix:MirrorPseudoLabeled</c>, each with its own caveat for asymmetric classes), and occlusion is
/// CutMix's job.</para>
/// <para>The payload is mapped back to [0, 1] intensities with the preprocessing's mean and std, changed, clamped to
/// [0, 1] and normalised again, so the output stays in the range real images have.</para>
/// </remarks>
public sealed class RandAugment
{
    /// <summary>The operation names, in draw order.</summary>
    public static IReadOnlyList<string> Operations { get; } =
        ["identity", "rotate", "shear-x", "shear-y", "translate-x", "translate-y", "brightness", "contrast", "sharpness", "posterize", "auto-contrast"];

    private readonly int _ops;
    private readonly double _magnitude;
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <param name="ops">N, operations per image (&gt;= 1).</param>
    /// <param name="magnitude">M in [0, 10].</param>
    /// <param name="mean">Per-channel mean of the preprocessing (payload = (v - mean) / std, v in [0, 1]).</param>
    /// <param name="std">Per-channel std of the preprocessing.</param>
    public RandAugment(int ops, int magnitude, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ops, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(magnitude);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(magnitude, 10);
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        _ops = ops;
        _magnitude = magnitude / 10.0;
        _mean = [.. mean];
        _std = [.. std];
    }

    /// <summary>The operations drawn for <paramref name="seed"/>, with their signed strength in [-1, 1]; exposed for tests.</summary>
    public IReadOnlyList<(string Operation, double Strength)> Draw(ulong seed)
    {
        var draws = new SeededDraws(seed);
        var result = new List<(string, double)>(_ops);
        for (var i = 0; i < _ops; i++)
        {
            var op = Operations[draws.NextInt(Operations.Count)];
            var sign = draws.NextDouble() < 0.5 ? -1.0 : 1.0;
            result.Add((op, sign * _magnitude));
        }
        return result;
    }

    /// <summary>The augmented copy of <paramref name="chw"/> (C x H x W, normalised), drawn from <paramref name="seed"/>.</summary>
    public float[] Apply(float[] chw, int channels, int height, int width, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(chw);
        if (chw.Length != channels * height * width)
        {
            throw new ArgumentException($"Payload has {chw.Length} values, not {channels}x{height}x{width}.", nameof(chw));
        }

        var plane = height * width;
        var image = new float[chw.Length];
        for (var c = 0; c < channels; c++)
        {
            var (mean, std) = Stats(c);
            for (var k = 0; k < plane; k++)
            {
                image[(c * plane) + k] = Math.Clamp((chw[(c * plane) + k] * std) + mean, 0f, 1f);
            }
        }

        foreach (var (op, strength) in Draw(seed))
        {
            image = op switch
            {
                "rotate" => Affine(image, channels, height, width, Rotation(strength * 30.0 * Math.PI / 180.0)),
                "shear-x" => Affine(image, channels, height, width, (1, strength * 0.3, 0, 1, 0, 0)),
                "shear-y" => Affine(image, channels, height, width, (1, 0, strength * 0.3, 1, 0, 0)),
                "translate-x" => Affine(image, channels, height, width, (1, 0, 0, 1, strength * 0.3 * width, 0)),
                "translate-y" => Affine(image, channels, height, width, (1, 0, 0, 1, 0, strength * 0.3 * height)),
                "brightness" => Blend(image, new float[image.Length], 1 + (0.9 * strength)),
                "contrast" => Blend(image, MeanImage(image, channels, plane), 1 + (0.9 * strength)),
                "sharpness" => Blend(image, Smooth(image, channels, height, width), 1 + (0.9 * strength)),
                "posterize" => Posterize(image, 8 - (int)Math.Round(4 * Math.Abs(strength))),
                "auto-contrast" => AutoContrast(image, channels, plane),
                _ => image,
            };
        }

        var output = new float[chw.Length];
        for (var c = 0; c < channels; c++)
        {
            var (mean, std) = Stats(c);
            for (var k = 0; k < plane; k++)
            {
                output[(c * plane) + k] = (Math.Clamp(image[(c * plane) + k], 0f, 1f) - mean) / std;
            }
        }
        return output;
    }

    private (float Mean, float Std) Stats(int channel) =>
        (_mean[Math.Min(channel, _mean.Length - 1)], _std[Math.Min(channel, _std.Length - 1)]);

    private static (double A, double B, double C, double D, double Tx, double Ty) Rotation(double angle) =>
        (Math.Cos(angle), -Math.Sin(angle), Math.Sin(angle), Math.Cos(angle), 0, 0);

    /// <summary>
    /// Output pixel p (relative to the centre) samples the input at <c>M p + t</c>, M = [[A, B], [C, D]]: the inverse
    /// map, so every output pixel is defined; outside the input is black.
    /// </summary>
    private static float[] Affine(float[] image, int channels, int height, int width, (double A, double B, double C, double D, double Tx, double Ty) m)
    {
        var output = new float[image.Length];
        var plane = height * width;
        var cx = (width - 1) / 2.0;
        var cy = (height - 1) / 2.0;
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var px = x - cx;
                var py = y - cy;
                var sx = (m.A * px) + (m.B * py) + m.Tx + cx;
                var sy = (m.C * px) + (m.D * py) + m.Ty + cy;
                for (var c = 0; c < channels; c++)
                {
                    output[(c * plane) + (y * width) + x] = Bilinear(image, c * plane, height, width, sx, sy);
                }
            }
        }
        return output;
    }

    private static float Bilinear(float[] image, int offset, int height, int width, double x, double y)
    {
        var x0 = (int)Math.Floor(x);
        var y0 = (int)Math.Floor(y);
        var fx = (float)(x - x0);
        var fy = (float)(y - y0);
        float At(int xi, int yi) => xi >= 0 && xi < width && yi >= 0 && yi < height ? image[offset + (yi * width) + xi] : 0f;
        return ((1 - fy) * (((1 - fx) * At(x0, y0)) + (fx * At(x0 + 1, y0)))) + (fy * (((1 - fx) * At(x0, y0 + 1)) + (fx * At(x0 + 1, y0 + 1))));
    }

    /// <summary>PIL's ImageEnhance: <c>degenerate + factor * (image - degenerate)</c>, clamped later.</summary>
    private static float[] Blend(float[] image, float[] degenerate, double factor)
    {
        var output = new float[image.Length];
        var f = (float)factor;
        for (var k = 0; k < image.Length; k++)
        {
            output[k] = Math.Clamp(degenerate[k] + (f * (image[k] - degenerate[k])), 0f, 1f);
        }
        return output;
    }

    private static float[] MeanImage(float[] image, int channels, int plane)
    {
        var output = new float[image.Length];
        for (var c = 0; c < channels; c++)
        {
            var mean = 0.0;
            for (var k = 0; k < plane; k++)
            {
                mean += image[(c * plane) + k];
            }
            Array.Fill(output, (float)(mean / plane), c * plane, plane);
        }
        return output;
    }

    /// <summary>PIL's SMOOTH kernel (centre 5, neighbours 1, / 13); the border keeps its pixels.</summary>
    private static float[] Smooth(float[] image, int channels, int height, int width)
    {
        var output = (float[])image.Clone();
        var plane = height * width;
        for (var c = 0; c < channels; c++)
        {
            for (var y = 1; y < height - 1; y++)
            {
                for (var x = 1; x < width - 1; x++)
                {
                    var sum = 0f;
                    for (var dy = -1; dy <= 1; dy++)
                    {
                        for (var dx = -1; dx <= 1; dx++)
                        {
                            sum += image[(c * plane) + ((y + dy) * width) + x + dx] * (dx == 0 && dy == 0 ? 5f : 1f);
                        }
                    }
                    output[(c * plane) + (y * width) + x] = sum / 13f;
                }
            }
        }
        return output;
    }

    private static float[] Posterize(float[] image, int bits)
    {
        var output = new float[image.Length];
        for (var k = 0; k < image.Length; k++)
        {
            var v = (int)Math.Round(Math.Clamp(image[k], 0f, 1f) * 255f);
            output[k] = (v >> (8 - bits) << (8 - bits)) / 255f;
        }
        return output;
    }

    private static float[] AutoContrast(float[] image, int channels, int plane)
    {
        var output = (float[])image.Clone();
        for (var c = 0; c < channels; c++)
        {
            var span = output.AsSpan(c * plane, plane);
            var min = float.MaxValue;
            var max = float.MinValue;
            foreach (var v in span)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            if (max - min < 1e-6f)
            {
                continue;
            }
            for (var k = 0; k < span.Length; k++)
            {
                span[k] = (span[k] - min) / (max - min);
            }
        }
        return output;
    }
}
