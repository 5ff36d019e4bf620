namespace KdData.Imaging;

/// <summary>
/// A crop rectangle in source-image pixels, measured on the image <em>after</em> EXIF orientation
/// (i.e. in <see cref="DecodedImage.Width"/> x <see cref="DecodedImage.Height"/> coordinates).
/// Integers so a stored box replays exactly.
/// </summary>
public readonly record struct CropBox(int X, int Y, int Width, int Height)
{
    /// <summary>True when the box is non-empty and lies entirely inside a <paramref name="imageWidth"/> x
    /// <paramref name="imageHeight"/> image.</summary>
    public bool FitsWithin(int imageWidth, int imageHeight) =>
        X >= 0 && Y >= 0 && Width > 0 && Height > 0
        && (long)X + Width <= imageWidth && (long)Y + Height <= imageHeight;
}
