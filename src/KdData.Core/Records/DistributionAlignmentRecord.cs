namespace KdData.Records;

/// <summary>
/// A self-teaching run's distribution-alignment averages in its <c>last</c> checkpoint (<c>training.distribution_alignment</c>),
/// so a resume aligns as the uninterrupted run would: see <c>KdData.Training.DistributionAlignment</c>.
/// </summary>
public sealed record DistributionAlignmentRecord
{
    /// <summary>The momentum the averages were kept with (<c>DistributionAlignment</c>); a resume needs the same.</summary>
    public double? Momentum { get; init; }

    /// <summary>p_model: the moving average of the pool rows' predicted class probabilities, by class index.</summary>
    public IReadOnlyList<float>? Model { get; init; }

    /// <summary>p_target: the moving average of the labeled rows' classes, by class index.</summary>
    public IReadOnlyList<float>? Target { get; init; }
}
