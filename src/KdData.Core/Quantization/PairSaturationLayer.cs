namespace KdData.Quantization;

/// <summary>The worst pair sum of one weight tensor: 255·(|w|₁ + |w|₂) of its worst output channel.</summary>
public sealed record PairSaturationLayer(string Weight, int Channel, int WorstPairSum)
{
    /// <summary>True when the pair sum cannot pass the int16 limit.</summary>
    public bool Safe => WorstPairSum <= PairSaturationCheck.PairLimit;
}
