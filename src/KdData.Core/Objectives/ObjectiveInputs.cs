using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// The tensors of one batch an objective may use, all on the training device, first dimension N (samples).
/// </summary>
public sealed class ObjectiveInputs
{
    /// <summary>Student logits, (N, C) float32, with grad.</summary>
    public required Tensor StudentLogits { get; init; }

    /// <summary>Ground-truth class per sample, (N) int64; <see cref="NoLabel"/> (-1) for pseudo-labeled samples.</summary>
    public required Tensor Labels { get; init; }

    /// <summary>
    /// Teacher logits, (N, C) float32, finite, no grad: rows of samples without a teacher output are ignored (see
    /// <see cref="HasTeacher"/>). Cached soft targets arrive here densely rebuilt from their top-k logits (see
    /// <c>SoftTarget.DenseLogits</c>); an online teacher's are its raw logits. Null when no sample has one.
    /// </summary>
    public Tensor? TeacherLogits { get; init; }

    /// <summary>(N) bool: the sample has a teacher output in <see cref="TeacherLogits"/>. Null = all have one (when logits are given).</summary>
    public Tensor? HasTeacher { get; init; }

    /// <summary>
    /// MixUp / CutMix of the batch's images, or null. With a mix, a row has a label only when it and its partner both
    /// have one, and the CE term is against the mixed hard target (see <see cref="ObjectiveMix"/>).
    /// </summary>
    public ObjectiveMix? Mix { get; init; }

    /// <summary>
    /// With a <see cref="Mix"/>: true when <see cref="TeacherLogits"/> belong to each row's own unmixed sample (cached
    /// soft targets), so the teacher target is the same mix of the two rows' teacher distributions (an approximation
    /// of what the teacher would say about the mixed image) and a row has a teacher only when both samples do; false
    /// (default) when the teacher labeled the mixed images themselves (online).
    /// </summary>
    public bool MixTeacherTargets { get; init; }

    /// <summary>Label value of a sample that has no ground truth (a pseudo-labeled pool image).</summary>
    public const long NoLabel = -1;
}
