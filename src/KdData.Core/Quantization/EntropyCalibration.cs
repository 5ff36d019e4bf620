namespace KdData.Quantization;

/// <summary>
/// Entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017): choose the clip threshold whose quantized
/// distribution loses the least information. From a histogram H of |x| over [0, max|x|] (B bins of width w) and L
/// quantization levels, for every candidate i = L..B bins:
/// <list type="bullet">
/// <item>reference P = (H_0, ..., H_(i-2), H_(i-1) + Σ_(k ≥ i) H_k): the values beyond the threshold are clipped into the last bin;</item>
/// <item>candidate Q: H_0..H_(i-1) cut into L groups of ⌊i/L⌋ bins (the last group takes the remainder); each group's
/// total is spread evenly over its non-empty bins (empty bins stay 0), which is what L levels can represent;</item>
/// <item>KL(P || Q) = Σ_k p_k ln(p_k / q_k) with p, q normalised to sum 1, over p_k &gt; 0; a bin with p_k &gt; 0 and q_k = 0
/// makes the divergence infinite (the candidate is skipped; TensorRT smooths instead).</item>
/// </list>
/// The threshold is the upper edge of the best candidate's last bin, t = i·w (the first i on ties). L = 128 for the
/// positive half of a signed code (TensorRT's int8); <see cref="Range"/> calibrates non-negative tensors such as ReLU
/// outputs, which use the whole uint8 code, so it takes L = 255, and leaves their first bin (the exact zeros) out.
/// </summary>
public static class EntropyCalibration
{
    /// <summary>Levels of the positive half of a signed 8-bit code.</summary>
    public const int SignedLevels = 128;

    /// <summary>Levels of an unsigned 8-bit code over [0, t].</summary>
    public const int UnsignedLevels = 255;

    /// <summary>The threshold t minimising KL(P || Q), as described on the class.</summary>
    /// <param name="absoluteHistogram">Histogram of |x| whose range starts at 0.</param>
    /// <param name="levels">Quantization levels L, 2 ≤ L ≤ bins.</param>
    public static float Threshold(ActivationHistogram absoluteHistogram, int levels)
    {
        ArgumentNullException.ThrowIfNull(absoluteHistogram);
        if (absoluteHistogram.Range.Min != 0)
        {
            throw new ArgumentException("The entropy calibration reads a histogram of |x| starting at 0.", nameof(absoluteHistogram));
        }
        var bins = absoluteHistogram.Bins;
        if (levels < 2 || levels > bins)
        {
            throw new ArgumentOutOfRangeException(nameof(levels), levels, $"Levels must be in [2, {bins}] (the bins).");
        }
        if (absoluteHistogram.Total == 0)
        {
            return absoluteHistogram.Range.Max;
        }

        var h = absoluteHistogram.Counts;
        var best = bins;
        var bestKl = double.PositiveInfinity;
        var p = new double[bins];
        var q = new double[bins];
        for (var i = levels; i <= bins; i++)
        {
            var kl = Divergence(h, i, levels, p, q);
            if (kl < bestKl)
            {
                bestKl = kl;
                best = i;
            }
        }
        return absoluteHistogram.Edge(best);
    }

    /// <summary>KL(P || Q) of the candidate with <paramref name="i"/> bins, as described on the class.</summary>
    internal static double Divergence(ReadOnlySpan<long> h, int i, int levels, double[] p, double[] q)
    {
        double outliers = 0;
        for (var k = i; k < h.Length; k++)
        {
            outliers += h[k];
        }
        double pSum = 0;
        for (var k = 0; k < i; k++)
        {
            p[k] = h[k];
            pSum += h[k];
        }
        p[i - 1] += outliers;
        pSum += outliers;

        var merged = i / levels;
        double qSum = 0;
        for (var level = 0; level < levels; level++)
        {
            var start = level * merged;
            var end = level == levels - 1 ? i : start + merged;
            double total = 0;
            var nonEmpty = 0;
            for (var k = start; k < end; k++)
            {
                total += h[k];
                if (h[k] != 0)
                {
                    nonEmpty++;
                }
            }
            for (var k = start; k < end; k++)
            {
                q[k] = h[k] != 0 ? total / nonEmpty : 0;
            }
            qSum += total;
        }

        if (pSum == 0 || qSum == 0)
        {
            return double.PositiveInfinity;
        }
        double kl = 0;
        for (var k = 0; k < i; k++)
        {
            if (p[k] == 0)
            {
                continue;
            }
            if (q[k] == 0)
            {
                return double.PositiveInfinity;
            }
            var pk = p[k] / pSum;
            kl += pk * Math.Log(pk / (q[k] / qSum));
        }
        return kl;
    }

    /// <summary>
    /// The calibrated range of a tensor whose min-max range is <paramref name="minMax"/>: [min, min(max, t)] with t from
    /// <see cref="Threshold"/> over the histogram of x (L = <see cref="UnsignedLevels"/>) when min ≥ 0 (ReLU outputs, the
    /// tensors the method is meant for). A tensor with negative values (e.g. the normalised input image, whose uint8
    /// code is asymmetric) keeps its min-max range: a threshold on |x| would clip both ends alike.
    /// </summary>
    public static ActivationRange Range(ActivationRange minMax, ActivationHistogram absoluteHistogram)
    {
        ArgumentNullException.ThrowIfNull(absoluteHistogram);
        if (minMax.Min < 0)
        {
            return minMax;
        }
        var levels = Math.Min(UnsignedLevels, absoluteHistogram.Bins);
        // The first bin is left out: it holds ReLU's exact zeros, which zero point 0 represents without error; left in,
        // that spike (often half the values) is smeared over its whole group in Q and pulls the threshold far down
        // (measured: 87.6 % instead of 90.4 % on the full-data student).
        var withoutZeros = new ActivationHistogram(absoluteHistogram.Range, absoluteHistogram.Bins);
        var counts = absoluteHistogram.Counts.ToArray();
        counts[0] = 0;
        withoutZeros.SetCounts(counts);
        var t = Threshold(withoutZeros, levels);
        return new ActivationRange(minMax.Min, Math.Min(minMax.Max, t));
    }
}
