namespace KdData.Training;

/// <summary>
/// What one optimizer step of <see cref="TrainingLoop"/> measured, for <see cref="EpochTotals"/>: the minimised loss
/// (objective plus representation terms), the labeled samples and how many the student got right, and the objective's
/// parts (NaN when a part was not computed; <c>RepresentationTerms</c> null without representation terms).
/// </summary>
internal readonly record struct TrainingStepResult(double Loss, long Correct, long Labeled, double CrossEntropy, double Distillation,
    double Representation, IReadOnlyDictionary<string, double>? RepresentationTerms)
{
    /// <summary>The objective's pseudo-label (mask) rate of the step's unlabeled samples; NaN when it has none.</summary>
    public double PseudoLabelRate { get; init; } = double.NaN;
}
