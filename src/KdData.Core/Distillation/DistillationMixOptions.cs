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

    /// <summary>
    /// Shift and flip every cached view, labeled and pool rows alike, with <c>Trainer:Data</c>'s padded crop
    /// (<c>CropPadding</c>, default 2 pixels) and flip (<c>HorizontalFlip</c>): the supervised recipe's augmentation on
    /// top of the teacher's view, drawn afresh each epoch. Default false: the student sees exactly the pixels the target
    /// belongs to. Why: a pool labeled once on the whole image (<c>Labeler:ViewsPerImage</c> 1, what the test set shows)
    /// otherwise trains on the same pixels every epoch, while random resized crops of it (views &gt; 1) show the student
    /// zoomed objects the test set never has. The target stays the view's, an approximation: a shift of a couple of
    /// pixels and a mirror barely change a teacher's output on centred, left-right symmetric images (Fashion-MNIST; not
    /// digits or text). With it, <see cref="MirrorPseudoLabeled"/> adds nothing and is not applied.
    /// </summary>
    public bool JitterViews { get; set; }
}
