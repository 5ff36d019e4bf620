using System.Diagnostics;
using System.Text;

namespace KdData.Imaging;

/// <summary>
/// Seeded RandomResizedCrop-style sampling (the torchvision algorithm): pick an area fraction in
/// [<see cref="ScaleMin"/>, <see cref="ScaleMax"/>] and a log-uniform aspect ratio in
/// [<see cref="RatioMin"/>, <see cref="RatioMax"/>], up to 10 attempts, then fall back to the largest
/// centered box whose ratio is clamped into range. Also decides a horizontal flip.
/// </summary>
/// <remarks>
/// Randomness comes from SplitMix64 (Steele, Lea, Flood 2014), written out here rather than System.Random,
/// so the stream for a seed is fixed by this code, not by the .NET version. Draw order per call: up to
/// 10 x (area, ratio) until a box fits, then (y, x), then one draw for the flip. Math.Log/Exp could in principle differ
/// in the last bit between platforms; that only matters at an exact rounding tie. Replays should use the
/// stored <see cref="CropBox"/>, not re-sample.
/// </remarks>
public sealed class RandomResizedCropSampler
{
    private const int Attempts = 10;

    public RandomResizedCropSampler(
        double scaleMin = 0.08, double scaleMax = 1.0, double ratioMin = 3.0 / 4.0, double ratioMax = 4.0 / 3.0, double flipProbability = 0.5)
    {
        if (!(scaleMin > 0 && scaleMin <= scaleMax && scaleMax <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(scaleMin), $"Need 0 < scaleMin <= scaleMax <= 1, got [{scaleMin}, {scaleMax}].");
        }

        if (!(ratioMin > 0 && ratioMin <= ratioMax && double.IsFinite(ratioMax)))
        {
            throw new ArgumentOutOfRangeException(nameof(ratioMin), $"Need 0 < ratioMin <= ratioMax, got [{ratioMin}, {ratioMax}].");
        }

        if (!(flipProbability is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(flipProbability), flipProbability, "Must be in [0, 1].");
        }

        ScaleMin = scaleMin;
        ScaleMax = scaleMax;
        RatioMin = ratioMin;
        RatioMax = ratioMax;
        FlipProbability = flipProbability;
    }

    /// <summary>Smallest crop area as a fraction of the image area. Default 0.08.</summary>
    public double ScaleMin { get; }

    /// <summary>Largest crop area as a fraction of the image area. Default 1.0.</summary>
    public double ScaleMax { get; }

    /// <summary>Smallest width/height ratio. Default 3/4.</summary>
    public double RatioMin { get; }

    /// <summary>Largest width/height ratio. Default 4/3.</summary>
    public double RatioMax { get; }

    /// <summary>Probability of a horizontal flip. Default 0.5.</summary>
    public double FlipProbability { get; }

    /// <summary>
    /// A stable per-image seed from a run seed, the image key and a counter (e.g. the augmentation index):
    /// FNV-1a over the key's UTF-8 bytes, mixed with the others through the SplitMix64 finaliser.
    /// Unlike string.GetHashCode this is the same in every process.
    /// </summary>
    public static ulong DeriveSeed(ulong baseSeed, string key, long counter)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = 14695981039346656037UL; // FNV-1a 64 offset basis
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 1099511628211UL; // FNV-1a 64 prime
        }

        return Mix(Mix(baseSeed ^ hash) ^ (ulong)counter);
    }

    /// <summary>Samples a crop box inside a <paramref name="width"/> x <paramref name="height"/> image
    /// (oriented pixels) and a flip decision; the same inputs always give the same result.</summary>
    public CropDecision Sample(int width, int height, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var state = seed;
        var box = SampleBox(width, height, ref state);
        var flip = NextDouble(ref state) < FlipProbability;
        Debug.Assert(box.FitsWithin(width, height), "sampled box must lie inside the image");
        return new CropDecision(box, flip);
    }

    private CropBox SampleBox(int width, int height, ref ulong state)
    {
        double area = (double)width * height;
        var logRatioMin = Math.Log(RatioMin);
        var logRatioMax = Math.Log(RatioMax);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var targetArea = area * (ScaleMin + ((ScaleMax - ScaleMin) * NextDouble(ref state)));
            var ratio = Math.Exp(logRatioMin + ((logRatioMax - logRatioMin) * NextDouble(ref state)));
            var w = (int)Math.Round(Math.Sqrt(targetArea * ratio), MidpointRounding.ToEven);
            var h = (int)Math.Round(Math.Sqrt(targetArea / ratio), MidpointRounding.ToEven);
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                var y = NextInt(ref state, height - h + 1);
                var x = NextInt(ref state, width - w + 1);
                return new CropBox(x, y, w, h);
            }
        }

        // Fallback: whole image with the aspect ratio clamped into [RatioMin, RatioMax], centered.
        var inRatio = (double)width / height;
        int cw, ch;
        if (inRatio < RatioMin)
        {
            cw = width;
            ch = Math.Clamp((int)Math.Round(cw / RatioMin, MidpointRounding.ToEven), 1, height);
        }
        else if (inRatio > RatioMax)
        {
            ch = height;
            cw = Math.Clamp((int)Math.Round(ch * RatioMax, MidpointRounding.ToEven), 1, width);
        }
        else
        {
            cw = width;
            ch = height;
        }

        return new CropBox((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>Uniform integer in [0, bound) ; multiply-shift on the top 32 bits.</summary>
    private static int NextInt(ref ulong state, int bound) =>
        (int)(((NextUInt64(ref state) >> 32) * (ulong)bound) >> 32);

    /// <summary>Uniform double in [0, 1) from the top 53 bits.</summary>
    private static double NextDouble(ref ulong state) => (NextUInt64(ref state) >> 11) * (1.0 / (1UL << 53));

    private static ulong NextUInt64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
