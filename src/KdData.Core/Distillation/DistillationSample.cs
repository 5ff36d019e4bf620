namespace KdData.Distillation;

/// <summary>
/// One image a distillation epoch draws from: a labeled image (with or without cached teacher views) or a
/// pseudo-labeled pool image (label <c>-1</c>, at least one view).
/// </summary>
/// <param name="Source">Index into the data source's image stores.</param>
/// <param name="Key">Key of the image in that store.</param>
/// <param name="Label">Class index, or <c>-1</c> for a pseudo-labeled image.</param>
/// <param name="Views">The teacher's cached views; empty for a labeled image the teacher never saw.</param>
public sealed record DistillationSample(int Source, string Key, long Label, IReadOnlyList<DistillationView> Views)
{
    /// <summary>True for a pool image whose only supervision is the teacher's.</summary>
    public bool IsPseudoLabeled => Label < 0;
}
