namespace KdData.Quantization;

/// <summary>The result of <see cref="PairSaturationCheck.Analyze"/> over a whole model.</summary>
public sealed record PairSaturationReport(IReadOnlyList<PairSaturationLayer> Layers)
{
    /// <summary>True when no weight can overflow the int16 pair sum (the model computes the same on every CPU).</summary>
    public bool Safe => Layers.All(l => l.Safe);

    /// <summary>The largest pair sum over all layers (0 without int8 weights).</summary>
    public int WorstPairSum => Layers.Count == 0 ? 0 : Layers.Max(l => l.WorstPairSum);

    /// <summary>The layers that can overflow.</summary>
    public IEnumerable<PairSaturationLayer> Unsafe => Layers.Where(l => !l.Safe);

    public override string ToString() => Safe
        ? $"no int16 pair overflow possible (worst 255·(|w|1+|w|2) = {WorstPairSum} <= {PairSaturationCheck.PairLimit})"
        : $"{Unsafe.Count()} of {Layers.Count} weights can overflow the int16 pair sum of CPUs without VNNI (worst {WorstPairSum} > {PairSaturationCheck.PairLimit}, in '{Unsafe.MaxBy(l => l.WorstPairSum)!.Weight}')";
}
