namespace KdData.Quantization;

/// <summary>
/// Min-max calibration: the range is [min_i x_i, max_i x_i] over every value of every calibration batch. Never clips,
/// so one outlier stretches the scale for all values (the percentile and entropy methods trade that clipping error
/// against rounding error). It is also the first pass of the histogram methods, which need the range to lay out their bins.
/// </summary>
public sealed class MinMaxObserver
{
    private float _min = float.PositiveInfinity;
    private float _max = float.NegativeInfinity;

    /// <summary>Number of values seen.</summary>
    public long Count { get; private set; }

    /// <summary>The range seen so far; (0, 0) before any value.</summary>
    public ActivationRange Range => Count == 0 ? new ActivationRange(0, 0) : new ActivationRange(_min, _max);

    /// <summary>Widens the range to cover <paramref name="values"/>; NaN values are ignored.</summary>
    public void Observe(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
        {
            if (float.IsNaN(v))
            {
                continue;
            }
            if (v < _min)
            {
                _min = v;
            }
            if (v > _max)
            {
                _max = v;
            }
            Count++;
        }
    }
}
