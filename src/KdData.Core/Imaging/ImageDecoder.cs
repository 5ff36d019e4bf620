using System.ComponentModel.DataAnnotations;
using SkiaSharp;

namespace KdData.Imaging;

/// <summary>
/// Decodes JPEG, PNG, WebP, BMP and GIF (first frame) bytes into a <see cref="DecodedImage"/> with EXIF
/// orientation applied. Every failure, including Skia reporting a null codec or a failed pixel read, is an
/// <see cref="ImageDecodeException"/> with a stable <see cref="ImageDecodeReason"/> code.
/// </summary>
/// <remarks>
/// Thread-safe: the decoder holds only immutable settings, and each call creates and disposes its own
/// SKData, SKCodec and SKBitmap, so many threads may call <see cref="Decode(ReadOnlyMemory{byte}, string)"/>
/// on one instance.
/// </remarks>
public sealed class ImageDecoder
{
    private readonly long _maxPixels;
    private readonly long _maxBytes;

    public ImageDecoder(ImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _maxPixels = options.MaxPixels;
        _maxBytes = options.MaxBytes;
    }

    public DecodedImage Decode(byte[] encoded, string key)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return Decode(encoded.AsMemory(), key);
    }

    /// <summary>Decodes <paramref name="encoded"/>; <paramref name="key"/> names the image in errors.</summary>
    /// <exception cref="ImageDecodeException">The bytes are empty, too large, truncated, corrupt, unsupported
    /// or not one of the accepted formats.</exception>
    public DecodedImage Decode(ReadOnlyMemory<byte> encoded, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var span = encoded.Span;
        if (span.IsEmpty)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Empty, "input has 0 bytes");
        }

        if (span.Length > _maxBytes)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.TooLarge, $"{span.Length} bytes exceeds MaxBytes {_maxBytes}");
        }

        // Header check first: nothing is handed to Skia if the declared size is a bomb.
        var (_, declaredWidth, declaredHeight) = ImageHeaderProbe.Probe(span, key);
        if (declaredWidth is { } dw && declaredHeight is { } dh)
        {
            EnsurePixelBudget(key, dw, dh, "header declares");
        }

        using var data = SKData.CreateCopy(span);
        using var stream = new SKMemoryStream(data);

        // The codec takes ownership of the native stream (SkiaSharp revokes the managed wrapper's ownership),
        // so disposing both is safe.
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
        {
            throw new ImageDecodeException(key, MapResult(createResult), $"Skia could not read the header ({createResult})");
        }

        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, $"declared size {info.Width}x{info.Height} is empty");
        }

        // Re-check with Skia's view of the size (covers headers the probe does not parse).
        EnsurePixelBudget(key, info.Width, info.Height, "codec reports");

        var alphaType = info.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul;

        // No colour space on the target: pixels are not colour-managed (as PIL does by default), but Skia
        // still converts grayscale, palette, 16-bit and CMYK sources to 8-bit RGBA.
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, alphaType);
        var raw = AllocateBitmap(key, target);
        try
        {
            // Transparent start + ZeroInitialized: regions a GIF first frame does not cover stay transparent.
            raw.Erase(SKColors.Transparent);
            var options = new SKCodecOptions(SKZeroInitialized.Yes) { FrameIndex = 0 };
            var result = codec.GetPixels(target, raw.GetPixels(), options);
            if (result != SKCodecResult.Success)
            {
                throw new ImageDecodeException(key, MapResult(result), $"pixel decode failed ({result})");
            }

            var origin = codec.EncodedOrigin;
            var oriented = ApplyOrigin(key, raw, origin);
            if (!ReferenceEquals(oriented, raw))
            {
                raw.Dispose();
            }

            try
            {
                return new DecodedImage(key, oriented, codec.EncodedFormat, origin);
            }
            catch
            {
                oriented.Dispose();
                throw;
            }
        }
        catch
        {
            raw.Dispose(); // idempotent, also when it was already disposed after orientation
            throw;
        }
    }

    private void EnsurePixelBudget(string key, long width, long height, string source)
    {
        if (width * height > _maxPixels)
        {
            throw new ImageDecodeException(
                key, ImageDecodeReason.TooLarge, $"{source} {width}x{height} = {width * height} pixels, over MaxPixels {_maxPixels}");
        }
    }

    private static SKBitmap AllocateBitmap(string key, SKImageInfo info)
    {
        var bitmap = new SKBitmap();
        if (!bitmap.TryAllocPixels(info))
        {
            bitmap.Dispose();
            throw new ImageDecodeException(key, ImageDecodeReason.TooLarge, $"could not allocate {info.Width}x{info.Height} pixels");
        }

        return bitmap;
    }

    private static string MapResult(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => ImageDecodeReason.Truncated,
        SKCodecResult.Unimplemented or SKCodecResult.InvalidConversion => ImageDecodeReason.Unsupported,
        _ => ImageDecodeReason.Corrupt,
    };

    /// <summary>Returns <paramref name="raw"/> itself for TopLeft, otherwise a new bitmap in display orientation.</summary>
    private static SKBitmap ApplyOrigin(string key, SKBitmap raw, SKEncodedOrigin origin)
    {
        if (origin == SKEncodedOrigin.TopLeft)
        {
            return raw;
        }

        var w = raw.Width;
        var h = raw.Height;
        var swapsAxes = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var oriented = AllocateBitmap(key, new SKImageInfo(swapsAxes ? h : w, swapsAxes ? w : h, raw.ColorType, raw.AlphaType));
        try
        {
            using var canvas = new SKCanvas(oriented);
            canvas.SetMatrix(OrientationMatrix(origin, w, h));

            // Nearest sampling + Src blending: a 90-degree rotation or mirror maps pixel centres onto pixel
            // centres, so this is an exact copy (no filtering, alpha kept as is).
            using var image = SKImage.FromBitmap(raw);
            using var paint = new SKPaint { BlendMode = SKBlendMode.Src };
            canvas.DrawImage(image, 0, 0, new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None), paint);
            canvas.Flush();
            return oriented;
        }
        catch
        {
            oriented.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Maps stored pixel coordinates (w x h) to display coordinates for an EXIF orientation. The EXIF name
    /// says where the stored 0th row and 0th column appear: e.g. RightTop (6) puts row 0 on the right and
    /// column 0 at the top, i.e. a 90-degree clockwise rotation (x' = h - y, y' = x).
    /// </summary>
    internal static SKMatrix OrientationMatrix(SKEncodedOrigin origin, int w, int h) => origin switch
    {
        SKEncodedOrigin.TopLeft => SKMatrix.Identity,
        SKEncodedOrigin.TopRight => new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1),
        SKEncodedOrigin.BottomRight => new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.BottomLeft => new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1),
        SKEncodedOrigin.LeftTop => new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightTop => new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1),
        SKEncodedOrigin.RightBottom => new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1),
        SKEncodedOrigin.LeftBottom => new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1),
        _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "unknown EXIF orientation"),
    };
}
