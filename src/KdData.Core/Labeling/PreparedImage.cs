using KdData.Imaging;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>An image's views, preprocessed for the teacher (one crop and pixel array per view), or why it could not be decoded.</summary>
internal sealed record PreparedImage(ObjectInfo Info, CropDecision[] Crops, float[][] Pixels, ErrorRow? Error, int? Label = null)
{
    /// <summary>An image that failed before the teacher: it passes the teacher stage with no views.</summary>
    public static PreparedImage Failed(ObjectInfo info, ErrorRow error) => new(info, [], [], error);

    /// <summary>The error row of an image that could not be labeled at <paramref name="stage"/>.</summary>
    public static ErrorRow FailureRow(ObjectInfo info, string stage, string reason, string detail) =>
        new(info.Key, info.ETag, info.Size, stage, reason, detail, null);
}
