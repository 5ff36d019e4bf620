using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>One step's loss and the parts that are logged (batch means, as plain numbers).</summary>
/// <param name="Loss">Scalar tensor to call backward on.</param>
/// <param name="CrossEntropy">Mean CE over the labeled samples it applied to (NaN when none did).</param>
/// <param name="Distillation">
/// Mean teacher term over the samples it applied to (NaN when none did): the T^2-scaled KL for <c>kd</c>, the
/// pseudo-label CE (masked rows counting as 0) for <c>pseudo-ce</c>; NaN for <c>ce</c>.
/// </param>
public sealed record ObjectiveLoss(Tensor Loss, double CrossEntropy, double Distillation)
{
    /// <summary>
    /// Fraction of the batch's unlabeled samples whose hard pseudo-label passed the confidence threshold (FixMatch's
    /// mask rate); NaN for objectives that do not threshold, or when the batch has no unlabeled sample.
    /// </summary>
    public double PseudoLabelRate { get; init; } = double.NaN;
}
