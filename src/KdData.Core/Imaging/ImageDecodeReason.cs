namespace KdData.Imaging;

/// <summary>
/// Stable, short reason codes for <see cref="ImageDecodeException.Reason"/>. They are written to the
/// errors table, so the string values must never change; add new codes instead of renaming.
/// </summary>
public static class ImageDecodeReason
{
    /// <summary>The input has zero bytes.</summary>
    public const string Empty = "empty";

    /// <summary>The bytes are not a JPEG, PNG, WebP, BMP or GIF (checked from the signature).</summary>
    public const string UnknownFormat = "unknown_format";

    /// <summary>The encoded size exceeds <see cref="ImageOptions.MaxBytes"/>, the header declares more
    /// pixels than <see cref="ImageOptions.MaxPixels"/>, or the pixel buffer could not be allocated.</summary>
    public const string TooLarge = "too_large";

    /// <summary>The file ends before the header or the pixel data is complete.</summary>
    public const string Truncated = "truncated";

    /// <summary>The file has a known signature but its header or data is invalid.</summary>
    public const string Corrupt = "corrupt";

    /// <summary>A known format with a feature the decoder does not implement (e.g. an exotic JPEG mode).</summary>
    public const string Unsupported = "unsupported";

    /// <summary>All codes, for validation and for documenting the errors table.</summary>
    public static IReadOnlyList<string> All { get; } = [Empty, UnknownFormat, TooLarge, Truncated, Corrupt, Unsupported];
}
