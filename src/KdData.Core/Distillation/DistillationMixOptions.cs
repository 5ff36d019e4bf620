using System.ComponentModel.DataAnnotations;

namespace KdData.Distillation;

/// <summary>
/// How distillation batches are composed, bound from <c>Trainer:Distill:Mix</c>. Every batch holds
/// <c>L = round(B / (1 + mu))</c> labeled and <c>B - L</c> pseudo-labeled images (FixMatch's ratio mu, Sohn et al.
/// 2020); an epoch is one pass over the larger of the two sets while the smaller one cycles (reshuffled each time).
/// </summary>
public sealed class DistillationMixOptions
{
    public const string SectionName = "Trainer:Distill:Mix";

    /// <summary>
    /// mu: pseudo-labeled images per labeled image in a batch. Default <c>null</c> = the sets' own ratio
    /// (pool size / labeled size), so each image is seen about once per epoch.
    /// </summary>
    [Range(0.0, 1000.0)]
    public double? UnlabeledRatio { get; set; }

    /// <summary>
    /// Mirror a pseudo-labeled view at random (p = 0.5) after replaying its crop. Default false: the cached target
    /// belongs to the exact view, and a mirror is target-preserving only for left-right symmetric classes (true of
    /// Fashion-MNIST, not of digits or text). Views themselves are the augmentation: label the pool with
    /// <c>Labeler:ViewsPerImage</c> &gt; 1 and each epoch draws one of them.
    /// </summary>
    public bool MirrorPseudoLabeled { get; set; }
}
