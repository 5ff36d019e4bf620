namespace KdData.Quantization;

/// <summary>The float range [<see cref="Min"/>, <see cref="Max"/>] an activation tensor is quantized over.</summary>
/// <param name="Min">Smallest value kept (values below saturate).</param>
/// <param name="Max">Largest value kept (values above saturate).</param>
public readonly record struct ActivationRange(float Min, float Max)
{
    /// <summary>The range of the values in <paramref name="values"/>; (0, 0) when empty.</summary>
    public static ActivationRange Of(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return new ActivationRange(0, 0);
        }
        var min = float.PositiveInfinity;
        var max = float.NegativeInfinity;
        foreach (var v in values)
        {
            if (v < min)
            {
                min = v;
            }
            if (v > max)
            {
                max = v;
            }
        }
        return new ActivationRange(min, max);
    }
}
