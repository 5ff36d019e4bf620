namespace KdData.Records;

/// <summary><c>training.model</c>: how big the trained model is, for reports comparing students and pruned models.</summary>
public sealed record ModelCostRecord
{
    /// <summary>Parameters.</summary>
    public long Parameters { get; init; }

    /// <summary>Multiply-accumulates of one image's forward pass; unknown (absent) without preprocessing.</summary>
    public long? Macs { get; init; }
}
