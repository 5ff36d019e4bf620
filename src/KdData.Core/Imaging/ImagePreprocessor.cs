using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using SkiaSharp;

namespace KdData.Imaging;

/// <summary>
/// Turns a <see cref="DecodedImage"/> into a normalised CHW float payload of length
/// <see cref="PayloadLength"/> = C x S x S: crop/resize to S x S, optional horizontal flip, alpha composited
/// onto the background, channel conversion, then <c>(value / 255 - mean[c]) / std[c]</c>.
/// </summary>
/// <remarks>
/// Crop, resize and flip are a single Skia draw from a source rectangle (in oriented image pixels) to the
/// S x S output, so a center crop never materialises the intermediate resized image. Thread-safe: the
/// instance holds only immutable settings and each call owns its own surface.
/// </remarks>
public sealed class ImagePreprocessor
{
    // BT.601 luma weights, the same as PIL's convert("L").
    private const float LumaR = 0.299f;
    private const float LumaG = 0.587f;
    private const float LumaB = 0.114f;

    private readonly int _size;
    private readonly int _resizeSize;
    private readonly ResizeMode _mode;
    private readonly SKColor _background;
    private readonly float[] _mean;
    private readonly float[] _invStd;

    public ImagePreprocessor(ImageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _size = options.OutputSize;
        _resizeSize = options.ResizeSize;
        _mode = options.ResizeMode;
        Channels = options.Channels;
        _background = ParseBackground(options.Background);
        _mean = [.. options.GetEffectiveMean()];
        _invStd = [.. options.GetEffectiveStd().Select(s => 1f / s)];
        Debug.Assert(_mean.Length == Channels && _invStd.Length == Channels, "options validation guarantees one mean/std per channel");
    }

    /// <summary>Output channels (1 or 3).</summary>
    public int Channels { get; }

    /// <summary>Output height and width.</summary>
    public int OutputSize => _size;

    /// <summary>Length of every payload: Channels x OutputSize x OutputSize.</summary>
    public int PayloadLength => Channels * _size * _size;

    /// <summary>
    /// Preprocesses the whole image per <see cref="ImageOptions.ResizeMode"/>, or exactly the region
    /// <paramref name="crop"/> (stretched to the square output, as RandomResizedCrop does) when given.
    /// <paramref name="flipHorizontal"/> mirrors the result left-right.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="crop"/> does not fit inside the image.</exception>
    public float[] Preprocess(DecodedImage image, CropBox? crop = null, bool flipHorizontal = false)
    {
        ArgumentNullException.ThrowIfNull(image);
        SKRect source;
        if (crop is { } box)
        {
            if (!box.FitsWithin(image.Width, image.Height))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(crop), box, $"Crop box does not fit image '{image.Key}' of {image.Width}x{image.Height} (oriented pixels).");
            }

            source = SKRect.Create(box.X, box.Y, box.Width, box.Height);
        }
        else
        {
            source = WholeImageSource(image.Width, image.Height);
        }

        var pixels = Render(image, source, flipHorizontal);
        return ToTensorPayload(pixels);
    }

    private SKRect WholeImageSource(int width, int height)
    {
        if (_mode == ResizeMode.Stretch)
        {
            return SKRect.Create(0, 0, width, height);
        }

        // Shorter side scaled to ResizeSize, then the centered OutputSize square: in source pixels that is a
        // square of side OutputSize * shorter / ResizeSize (<= shorter, since ResizeSize >= OutputSize).
        var shorter = Math.Min(width, height);
        var side = (float)((double)_size * shorter / _resizeSize);
        return SKRect.Create((width - side) / 2f, (height - side) / 2f, side, side);
    }

    /// <summary>Draws <paramref name="source"/> into an S x S RGBA buffer (opaque after compositing).</summary>
    private unsafe byte[] Render(DecodedImage image, SKRect source, bool flipHorizontal)
    {
        var info = new SKImageInfo(_size, _size, SKColorType.Rgba8888, SKAlphaType.Premul);
        var buffer = new byte[info.BytesSize];
        fixed (byte* pixels = buffer)
        {
            // The surface draws straight into the pinned managed buffer; it is disposed before the pin ends.
            using var surface = SKSurface.Create(info, (IntPtr)pixels, info.RowBytes)
                ?? throw new InvalidOperationException($"Skia could not create a {_size}x{_size} surface for '{image.Key}'.");
            var canvas = surface.Canvas;
            canvas.Clear(_background);
            if (flipHorizontal)
            {
                canvas.Translate(_size, 0);
                canvas.Scale(-1, 1);
            }

            // Default paint blends source-over in premultiplied space: transparent pixels show the background.
            using var paint = new SKPaint();
            canvas.DrawImage(image.Image, source, SKRect.Create(0, 0, _size, _size), ChooseSampling(source, _size), paint);
            canvas.Flush();
        }

        return buffer;
    }

    /// <summary>
    /// Sampling choice. For reductions beyond 2x a fixed 4-tap cubic would skip source pixels and alias, so
    /// we use trilinear mipmaps (the mip chain is a box-filtered pyramid, so every source pixel contributes).
    /// For milder reductions and enlargements Mitchell-Netravali cubic (B = C = 1/3) is sharp with little
    /// ringing. An exact 1:1 integer-aligned copy uses nearest so values pass through unchanged.
    /// </summary>
    internal static SKSamplingOptions ChooseSampling(SKRect source, int outputSize)
    {
        var scaleX = outputSize / source.Width;
        var scaleY = outputSize / source.Height;
        if (scaleX == 1f && scaleY == 1f && source.Left == MathF.Floor(source.Left) && source.Top == MathF.Floor(source.Top))
        {
            return new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None);
        }

        if (Math.Min(scaleX, scaleY) < 0.5f)
        {
            return new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
        }

        return new SKSamplingOptions(SKCubicResampler.Mitchell);
    }

    private float[] ToTensorPayload(byte[] rgba)
    {
        var plane = _size * _size;
        var output = new float[Channels * plane];
        const float Inv255 = 1f / 255f;
        if (Channels == 3)
        {
            for (var i = 0; i < plane; i++)
            {
                var p = i * 4;
                output[i] = ((rgba[p] * Inv255) - _mean[0]) * _invStd[0];
                output[plane + i] = ((rgba[p + 1] * Inv255) - _mean[1]) * _invStd[1];
                output[(2 * plane) + i] = ((rgba[p + 2] * Inv255) - _mean[2]) * _invStd[2];
            }
        }
        else
        {
            for (var i = 0; i < plane; i++)
            {
                var p = i * 4;
                var luma = ((LumaR * rgba[p]) + (LumaG * rgba[p + 1]) + (LumaB * rgba[p + 2])) * Inv255;
                output[i] = (luma - _mean[0]) * _invStd[0];
            }
        }

        return output;
    }

    private static SKColor ParseBackground(string value)
    {
        // Validated as #RRGGBB, so the parse cannot fail; the colour is forced opaque.
        var rgb = uint.Parse(value.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new SKColor((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb, 255);
    }
}
