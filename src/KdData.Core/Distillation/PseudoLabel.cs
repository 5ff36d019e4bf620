using KdData.Imaging;
using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>
/// One selected soft-target row in its object form. <see cref="PseudoLabelSet"/> holds its rows column by column
/// (<see cref="SoftTargetColumns"/>: ~145 bytes a row with k = 10 plus the key and ETag, shared by an image's views)
/// and builds this on access; the object form would cost ~360 bytes a row with one view per image, ~530 with four.
/// </summary>
/// <param name="Source">Index into <see cref="PseudoLabelSet.Sources"/>: the store the key is relative to.</param>
/// <param name="Key">Key of the image in that store.</param>
/// <param name="ETag">ETag of the image when the teacher labeled it; a different current ETag means the image changed since.</param>
/// <param name="View">0-based view of the image (several rows of one image differ in view and crop).</param>
/// <param name="Crop">The crop box and flip the teacher saw, to be replayed exactly.</param>
/// <param name="Target">The teacher's soft target (top-k logits and log-sum-exp; see <see cref="SoftTarget.ProbabilitiesAt(double, Span{float})"/>).</param>
/// <param name="FromRejected">True when the row came from a <c>rejected/</c> shard (<see cref="ShardSelectionOptions.IncludeRejected"/>).</param>
public readonly record struct PseudoLabel(
    int Source,
    string Key,
    string ETag,
    int View,
    CropDecision Crop,
    SoftTarget Target,
    bool FromRejected)
{
    /// <summary>The teacher's arg-max class.</summary>
    public int Predicted => Target.Predicted;

    /// <summary>The teacher's softmax maximum at T = 1.</summary>
    public float Confidence => Target.Confidence;
}
