namespace KdData.Quantization;

/// <summary>
/// Counts of values in <see cref="Bins"/> equal-width bins over a fixed range [lo, hi] (bin k covers
/// [lo + k·w, lo + (k+1)·w) with w = (hi - lo) / bins; the last bin also holds hi; values outside are clamped into the
/// end bins). The range comes from a min-max pass over the same images, so nothing is clamped in practice.
/// The percentile and entropy calibrations read it.
/// </summary>
public sealed class ActivationHistogram
{
    /// <summary>Default number of bins (as TensorRT's and ONNX Runtime's entropy calibrators).</summary>
    public const int DefaultBins = 2048;

    private readonly long[] _counts;

    /// <param name="range">The range the bins cover; an empty range (hi = lo) puts every value in bin 0.</param>
    /// <param name="bins">Number of bins, at least 1.</param>
    public ActivationHistogram(ActivationRange range, int bins = DefaultBins)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        if (!(range.Max >= range.Min))
        {
            throw new ArgumentException($"Histogram range [{range.Min}, {range.Max}] is not ordered.", nameof(range));
        }
        Range = range;
        _counts = new long[bins];
    }

    /// <summary>The range the bins cover.</summary>
    public ActivationRange Range { get; }

    /// <summary>Number of bins.</summary>
    public int Bins => _counts.Length;

    /// <summary>Width of one bin ((hi - lo) / bins; 0 for an empty range).</summary>
    public double BinWidth => ((double)Range.Max - Range.Min) / Bins;

    /// <summary>Counts per bin.</summary>
    public ReadOnlySpan<long> Counts => _counts;

    /// <summary>Total number of values added.</summary>
    public long Total { get; private set; }

    /// <summary>Adds values; NaN values are ignored.</summary>
    public void Add(ReadOnlySpan<float> values)
    {
        var width = BinWidth;
        var last = _counts.Length - 1;
        foreach (var v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }
            var bin = width > 0 ? (int)Math.Clamp(Math.Floor((v - Range.Min) / width), 0, last) : 0;
            _counts[bin]++;
            Total++;
        }
    }

    /// <summary>Sets counts directly (for tests and for merging).</summary>
    internal void SetCounts(ReadOnlySpan<long> counts)
    {
        if (counts.Length != _counts.Length)
        {
            throw new ArgumentException($"Expected {_counts.Length} counts, got {counts.Length}.", nameof(counts));
        }
        counts.CopyTo(_counts);
        Total = 0;
        foreach (var c in counts)
        {
            Total += c;
        }
    }

    /// <summary>The lower edge of bin <paramref name="bin"/> (bin = <see cref="Bins"/> gives hi).</summary>
    public float Edge(int bin) => bin >= Bins ? Range.Max : (float)(Range.Min + (bin * BinWidth));
}
