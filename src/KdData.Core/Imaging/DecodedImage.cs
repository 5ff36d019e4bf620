using System.Diagnostics;
using SkiaSharp;

namespace KdData.Imaging;

/// <summary>
/// A decoded image in display orientation (EXIF orientation already applied), RGBA 8-bit, premultiplied
/// unless opaque. Owns its native pixel memory: dispose it. Safe to read from several threads at once,
/// but it is normally used by the one worker that decoded it.
/// </summary>
public sealed class DecodedImage : IDisposable
{
    private readonly SKBitmap _bitmap;
    private SKImage? _image;

    internal DecodedImage(string key, SKBitmap orientedBitmap, SKEncodedImageFormat format, SKEncodedOrigin origin)
    {
        Debug.Assert(orientedBitmap.ColorType == SKColorType.Rgba8888, "decoder always produces RGBA8888");
        Key = key;
        _bitmap = orientedBitmap;
        _bitmap.SetImmutable();
        Format = format;
        Origin = origin;
    }

    /// <summary>The key the image was decoded under (for error messages).</summary>
    public string Key { get; }

    /// <summary>Width after EXIF orientation.</summary>
    public int Width => _bitmap.Width;

    /// <summary>Height after EXIF orientation.</summary>
    public int Height => _bitmap.Height;

    /// <summary>The encoded format Skia detected.</summary>
    public SKEncodedImageFormat Format { get; }

    /// <summary>The EXIF orientation that was applied (TopLeft = none).</summary>
    public SKEncodedOrigin Origin { get; }

    /// <summary>False when the source declared itself opaque.</summary>
    public bool HasAlpha => _bitmap.AlphaType != SKAlphaType.Opaque;

    /// <summary>
    /// The pixels as a Skia image, made on first use: the preprocessor's 1:1 path reads <see cref="Pixels"/> and never
    /// needs one, and each Skia object costs a native allocation and a handle-table entry per image.
    /// </summary>
    internal SKImage Image
    {
        get
        {
            if (_image is { } image)
            {
                return image;
            }

            // From an immutable bitmap Skia shares the pixels instead of copying them.
            var created = SKImage.FromBitmap(_bitmap)
                ?? throw new InvalidOperationException($"Skia could not wrap the decoded pixels of '{Key}' in an image.");
            var existing = Interlocked.CompareExchange(ref _image, created, null);
            if (existing is not null)
            {
                // Another thread won the race: keep one image.
                created.Dispose();
                return existing;
            }

            return created;
        }
    }

    /// <summary>The RGBA8888 pixels, <see cref="RowBytes"/> per row (premultiplied unless opaque).</summary>
    internal ReadOnlySpan<byte> Pixels => _bitmap.GetPixelSpan();

    /// <summary>Bytes per row of <see cref="Pixels"/>.</summary>
    internal int RowBytes => _bitmap.RowBytes;

    /// <summary>The (unpremultiplied) colour at (<paramref name="x"/>, <paramref name="y"/>) in oriented
    /// coordinates, before any background compositing. Meant for inspection and tests, not bulk access.</summary>
    public SKColor GetPixel(int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        return _bitmap.GetPixel(x, y);
    }

    public void Dispose()
    {
        _image?.Dispose();
        _bitmap.Dispose();
    }
}
