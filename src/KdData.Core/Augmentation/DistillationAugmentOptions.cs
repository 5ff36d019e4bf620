using System.ComponentModel.DataAnnotations;

namespace KdData.Augmentation;

/// <summary>
/// Augmentation of distillation batches beyond the cached views, bound from <c>Trainer:Distill:Augment</c>: MixUp and
/// CutMix (applied to whole batches, see <see cref="BatchMixer"/>) and a label-preserving RandAugment (per
/// image, see <see cref="RandAugment"/>). Everything is off by default, so a run without this section trains
/// exactly as before.
/// </summary>
/// <remarks>
/// Offline (cached soft targets) a mixed image's KD target is the same mix of the two images' cached teacher
/// distributions, which approximates what the teacher would say about the mixed image (the teacher is not linear); a
/// RandAugmented image keeps its cached target although the teacher saw the un-augmented view. Online (a teacher in
/// the loop) the teacher labels exactly the mixed / augmented pixels.
/// </remarks>
public sealed class DistillationAugmentOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Distill:Augment";

    /// <summary>MixUp (Zhang et al. 2018): a batch's images are blended pairwise with lambda ~ Beta(alpha, alpha). Default false.</summary>
    public bool MixUp { get; set; }

    /// <summary>CutMix (Yun et al. 2019): a box of the partner image is pasted in; lambda is 1 - the box's area fraction. Default false.</summary>
    public bool CutMix { get; set; }

    /// <summary>alpha of MixUp's Beta(alpha, alpha), &gt; 0. Default 0.2 (the paper's ImageNet value: most lambdas near 0 or 1).</summary>
    [Range(1e-3, 100.0)]
    public double MixUpAlpha { get; set; } = 0.2;

    /// <summary>alpha of CutMix's Beta(alpha, alpha) for the box area, &gt; 0. Default 1 (uniform area, the paper's value).</summary>
    [Range(1e-3, 100.0)]
    public double CutMixAlpha { get; set; } = 1.0;

    /// <summary>
    /// Probability that a batch is mixed at all, in [0, 1]. Default 1. With both MixUp and CutMix on, a mixed batch
    /// uses one of them, each with probability 0.5.
    /// </summary>
    [Range(0.0, 1.0)]
    public double Probability { get; set; } = 1.0;

    /// <summary>Label-preserving RandAugment (Cubuk et al. 2020) on every training image. Default false.</summary>
    public bool RandAugment { get; set; }

    /// <summary>N: RandAugment operations applied per image, 1-5. Default 2 (the paper's usual value).</summary>
    [Range(1, 5)]
    public int RandAugmentOps { get; set; } = 2;

    /// <summary>M: magnitude of every operation on a 0-10 scale (10 = the largest distortion each op allows). Default 9 (the paper's ImageNet value).</summary>
    [Range(0, 10)]
    public int RandAugmentMagnitude { get; set; } = 9;

    /// <summary>
    /// FixMatch's two views of a pool image (Sohn et al. 2020, "FixMatch: Simplifying Semi-Supervised Learning with
    /// Consistency and Confidence", arXiv:2001.07685): the online teacher labels its weak view (the padded random crop
    /// and flip of <c>Trainer:Data</c>) while the student learns from a strong view of the same image (another crop
    /// and flip, then RandAugment with <see cref="RandAugmentOps"/> / <see cref="RandAugmentMagnitude"/>, then
    /// <see cref="Cutout"/>). Labeled images keep one view. Needs an online teacher (<c>Trainer:Distill:Teacher</c>,
    /// <c>self</c> for FixMatch itself) and no MixUp / CutMix. Default false.
    /// </summary>
    public bool StrongPool { get; set; }

    /// <summary>
    /// Side of the strong view's Cutout square as a share of the image side, in [0, 1]; 0 = none. Default 0.5
    /// (FixMatch's 16 px on 32 px CIFAR images).
    /// </summary>
    [Range(0.0, 1.0)]
    public double Cutout { get; set; } = 0.5;

    /// <summary>True when batches are mixed (MixUp or CutMix on, with a positive probability).</summary>
    public bool Mixes => (MixUp || CutMix) && Probability > 0;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!(MixUp || CutMix) && Probability < 1.0)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(Probability)} is set but neither {SectionName}:{nameof(MixUp)} nor {SectionName}:{nameof(CutMix)} is on.",
                [nameof(Probability)]);
        }

        if (StrongPool && Mixes)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(StrongPool)} and MixUp / CutMix are both on: the teacher labels one unmixed view of each pool image, so turn mixing off.",
                [nameof(StrongPool)]);
        }
    }
}
