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

    /// <summary>
    /// Normalised value of each 8-bit level, per output channel (<c>[c * 256 + v]</c>), computed with exactly the
    /// arithmetic of the per-pixel formula, so a lookup gives bit-identical floats; for one channel, the entry is
    /// the luma of the grey (v, v, v), which is what grayscale sources decode to.
    /// </summary>
    private readonly float[] _levels;

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
        _levels = new float[Channels * 256];
        for (var c = 0; c < Channels; c++)
        {
            for (var v = 0; v < 256; v++)
            {
                _levels[(c * 256) + v] = Channels == 3 ? Normalise((byte)v, c) : NormaliseLuma((byte)v, (byte)v, (byte)v);
            }
        }
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
        var source = SourceRect(image, crop);
        if (IsExactCopy(image, source))
        {
            // 1:1, integer-aligned and opaque: Skia's nearest-sampled draw would copy these pixels unchanged (no
            // filtering, nothing to composite), so read them straight from the bitmap and skip the surface.
            var output = new float[PayloadLength];
            ToTensorPayload(image.Pixels, image.RowBytes, (int)source.Left, (int)source.Top, flipHorizontal, output);
            return output;
        }

        var pixels = Render(image, source, flipHorizontal);
        var payload = new float[PayloadLength];
        ToTensorPayload(pixels, _size * 4, 0, 0, flipHorizontal: false, payload);
        return payload;
    }

    /// <summary>
    /// The 8-bit levels <see cref="Preprocess"/> would normalise, channel-planar (C x S x S bytes, a quarter of the
    /// payload's size), so a caller can keep a rendered view cheaply and turn it into exactly the same payload later
    /// with <see cref="NormaliseLevels"/>. Null when the levels cannot say it exactly: a one-channel output of a pixel that
    /// is not grey, whose luma is computed in floats.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="crop"/> does not fit inside the image.</exception>
    public byte[]? PreprocessLevels(DecodedImage image, CropBox? crop = null, bool flipHorizontal = false)
    {
        ArgumentNullException.ThrowIfNull(image);
        var source = SourceRect(image, crop);
        return IsExactCopy(image, source)
            ? ToLevels(image.Pixels, image.RowBytes, (int)source.Left, (int)source.Top, flipHorizontal)
            : ToLevels(Render(image, source, flipHorizontal), _size * 4, 0, 0, flipHorizontal: false);
    }

    /// <summary>
    /// The payload of levels from <see cref="PreprocessLevels"/>: bit-identical to what <see cref="Preprocess"/>
    /// returns for the same image, crop and flip (the same lookup table).
    /// </summary>
    public float[] NormaliseLevels(ReadOnlySpan<byte> levels)
    {
        if (levels.Length != PayloadLength)
        {
            throw new ArgumentException($"Expected {PayloadLength} levels (C x S x S), got {levels.Length}.", nameof(levels));
        }

        var output = new float[PayloadLength];
        var plane = _size * _size;
        var table = _levels.AsSpan();
        for (var c = 0; c < Channels; c++)
        {
            var lookup = table.Slice(c * 256, 256);
            var from = levels.Slice(c * plane, plane);
            var to = output.AsSpan(c * plane, plane);
            for (var i = 0; i < plane; i++)
            {
                to[i] = lookup[from[i]];
            }
        }

        return output;
    }

    private SKRect SourceRect(DecodedImage image, CropBox? crop)
    {
        if (crop is not { } box)
        {
            return WholeImageSource(image.Width, image.Height);
        }

        if (!box.FitsWithin(image.Width, image.Height))
        {
            throw new ArgumentOutOfRangeException(
                nameof(crop), box, $"Crop box does not fit image '{image.Key}' of {image.Width}x{image.Height} (oriented pixels).");
        }

        return SKRect.Create(box.X, box.Y, box.Width, box.Height);
    }

    // The S x S square at (left, top) as planar levels, or null when a one-channel output meets a non-grey pixel.
    private byte[]? ToLevels(ReadOnlySpan<byte> rgba, int rowBytes, int left, int top, bool flipHorizontal)
    {
        var plane = _size * _size;
        var output = new byte[PayloadLength];
        for (var y = 0; y < _size; y++)
        {
            var row = rgba.Slice(((top + y) * rowBytes) + (left * 4), _size * 4);
            var o = y * _size;
            for (var x = 0; x < _size; x++, o++)
            {
                var p = (flipHorizontal ? _size - 1 - x : x) * 4;
                byte r = row[p], g = row[p + 1], b = row[p + 2];
                if (Channels == 3)
                {
                    output[o] = r;
                    output[plane + o] = g;
                    output[(2 * plane) + o] = b;
                }
                else if (r == g && g == b)
                {
                    output[o] = r;
                }
                else
                {
                    return null;
                }
            }
        }

        return output;
    }

    /// <summary>True when the draw would be a plain copy: a source square of the output's size on whole pixels of an opaque image.</summary>
    private bool IsExactCopy(DecodedImage image, SKRect source) =>
        !image.HasAlpha
        && source.Width == _size && source.Height == _size
        && source.Left == MathF.Floor(source.Left) && source.Top == MathF.Floor(source.Top);

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

    /// <summary>
    /// Normalises the S x S RGBA square at (<paramref name="left"/>, <paramref name="top"/>) of <paramref name="rgba"/>
    /// (rows <paramref name="rowBytes"/> apart) into CHW <paramref name="output"/>, mirrored when
    /// <paramref name="flipHorizontal"/>. Values come from the level tables except for the luma of a non-grey pixel.
    /// </summary>
    private void ToTensorPayload(ReadOnlySpan<byte> rgba, int rowBytes, int left, int top, bool flipHorizontal, float[] output)
    {
        var plane = _size * _size;
        var levels = _levels.AsSpan();
        for (var y = 0; y < _size; y++)
        {
            var row = rgba.Slice(((top + y) * rowBytes) + (left * 4), _size * 4);
            var o = y * _size;
            for (var x = 0; x < _size; x++, o++)
            {
                var p = (flipHorizontal ? _size - 1 - x : x) * 4;
                byte r = row[p], g = row[p + 1], b = row[p + 2];
                if (Channels == 3)
                {
                    output[o] = levels[r];
                    output[plane + o] = levels[256 + g];
                    output[(2 * plane) + o] = levels[512 + b];
                }
                else
                {
                    output[o] = r == g && g == b ? levels[r] : NormaliseLuma(r, g, b);
                }
            }
        }
    }

    private float Normalise(byte value, int channel)
    {
        const float Inv255 = 1f / 255f;
        return ((value * Inv255) - _mean[channel]) * _invStd[channel];
    }

    private float NormaliseLuma(byte r, byte g, byte b)
    {
        const float Inv255 = 1f / 255f;
        var luma = ((LumaR * r) + (LumaG * g) + (LumaB * b)) * Inv255;
        return (luma - _mean[0]) * _invStd[0];
    }

    private static SKColor ParseBackground(string value)
    {
        // Validated as #RRGGBB, so the parse cannot fail; the colour is forced opaque.
        var rgb = uint.Parse(value.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return new SKColor((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb, 255);
    }
}
