using KdData.Imaging;

namespace KdData.SoftTargets;

/// <summary>
/// One row of a soft-target shard: which source object and which view of it was labelled, and the teacher's
/// <see cref="SoftTarget"/> for that view.
/// </summary>
/// <param name="Key">Storage key of the source image.</param>
/// <param name="ETag">ETag of the source object when it was read, so a changed object is detectable.</param>
/// <param name="Size">Size of the source object in bytes.</param>
/// <param name="View">0-based index of the view (augmented crop) of this image.</param>
/// <param name="Crop">Crop of the view in source pixels after EXIF orientation, and whether it was mirrored.</param>
/// <param name="Target">The teacher's soft target for the view.</param>
/// <param name="Label">The true class carried by a packed input (a label column, a <c>.cls</c> member), so pseudo-label accuracy can be measured; null when the input has none.</param>
public sealed record SoftTargetRow(string Key, string ETag, long Size, int View, CropDecision Crop, SoftTarget Target, int? Label = null);
