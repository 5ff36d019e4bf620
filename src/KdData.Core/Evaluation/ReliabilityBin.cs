namespace KdData.Evaluation;

/// <summary>
/// One bin of a reliability diagram: the samples whose confidence (top-1 softmax probability) lies in
/// (<see cref="Lower"/>, <see cref="Upper"/>] (the first bin also takes exactly 0).
/// </summary>
public sealed record ReliabilityBin
{
    /// <summary>Lower edge (exclusive, except for the first bin).</summary>
    public required double Lower { get; init; }

    /// <summary>Upper edge (inclusive).</summary>
    public required double Upper { get; init; }

    /// <summary>Samples in the bin.</summary>
    public required int Count { get; init; }

    /// <summary>Mean confidence of the bin's samples; null when the bin is empty.</summary>
    public double? MeanConfidence { get; init; }

    /// <summary>Share of the bin's samples whose top-1 prediction is right; null when the bin is empty.</summary>
    public double? Accuracy { get; init; }
}
