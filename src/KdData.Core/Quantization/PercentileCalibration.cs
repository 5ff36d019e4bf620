namespace KdData.Quantization;

/// <summary>
/// Percentile calibration: clip both tails so that a share p of the values lies inside the range. With the histogram
/// H over [lo, hi] (n values, bin width w, bin edges e_k = lo + k·w) the upper end is the upper edge of the first bin
/// k whose cumulative count reaches p·n, hi' = e_(k+1) with Σ_(j ≤ k) H_j ≥ p·n, and the lower end is the lower edge
/// of the last bin k whose count from the top reaches p·n, lo' = e_k with Σ_(j ≥ k) H_j ≥ p·n. So at most (1 - p)·n
/// values are clipped on each side, and a range never grows past min-max. Typical p = 99.99 %: one activation in
/// 10,000 saturates, which for ReLU nets with a long right tail shrinks the scale several times over.
/// </summary>
public static class PercentileCalibration
{
    /// <summary>Default percentile (99.99 %).</summary>
    public const double DefaultPercentile = 99.99;

    /// <param name="histogram">Histogram over the min-max range.</param>
    /// <param name="percentile">Share of the values kept on each side, in percent, in (50, 100].</param>
    public static ActivationRange Range(ActivationHistogram histogram, double percentile = DefaultPercentile)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (!(percentile > 50 && percentile <= 100))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "The percentile must be in (50, 100].");
        }
        if (histogram.Total == 0)
        {
            return histogram.Range;
        }

        var keep = percentile / 100.0 * histogram.Total;
        var counts = histogram.Counts;
        var upper = histogram.Bins - 1;
        long cumulative = 0;
        for (var k = 0; k < counts.Length; k++)
        {
            cumulative += counts[k];
            if (cumulative >= keep)
            {
                upper = k;
                break;
            }
        }
        var lower = 0;
        cumulative = 0;
        for (var k = counts.Length - 1; k >= 0; k--)
        {
            cumulative += counts[k];
            if (cumulative >= keep)
            {
                lower = k;
                break;
            }
        }
        return new ActivationRange(histogram.Edge(lower), histogram.Edge(upper + 1));
    }
}
