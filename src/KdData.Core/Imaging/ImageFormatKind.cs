namespace KdData.Imaging;

/// <summary>The encoded formats this pipeline accepts (anything else is <see cref="ImageDecodeReason.UnknownFormat"/>).</summary>
internal enum ImageFormatKind
{
    Jpeg,
    Png,
    Gif,
    Bmp,
    WebP,
}
