using SkiaSharp;

namespace KdData.Tests.Imaging;

/// <summary>Builds small RGBA pixel grids and encodes them with SkiaSharp (PNG, JPEG, WebP).</summary>
internal static class TestImages
{
    /// <summary>Unpremultiplied RGBA grid, row-major.</summary>
    public static SKColor[,] Fill(int width, int height, Func<int, int, SKColor> pixel)
    {
        var grid = new SKColor[height, width];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                grid[y, x] = pixel(x, y);
            }
        }

        return grid;
    }

    /// <summary>Four quadrants: top-left, top-right, bottom-left, bottom-right colours.</summary>
    public static SKColor[,] Quadrants(int width, int height, SKColor tl, SKColor tr, SKColor bl, SKColor br) =>
        Fill(width, height, (x, y) => (x < width / 2, y < height / 2) switch
        {
            (true, true) => tl,
            (false, true) => tr,
            (true, false) => bl,
            _ => br,
        });

    /// <summary>Seeded noise, so truncation cuts through real entropy-coded data.</summary>
    public static SKColor[,] Noise(int width, int height, int seed)
    {
        var random = new Random(seed);
        return Fill(width, height, (_, _) => new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
    }

    public static byte[] Encode(SKColor[,] grid, SKEncodedImageFormat format, int quality = 95)
    {
        using var bitmap = ToBitmap(grid);
        using var pixmap = bitmap.PeekPixels();
        using var data = format switch
        {
            SKEncodedImageFormat.Png => pixmap.Encode(new SKPngEncoderOptions()),
            SKEncodedImageFormat.Jpeg => pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore)),
            SKEncodedImageFormat.Webp => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        Assert.NotNull(data);
        return data.ToArray();
    }

    /// <summary>An 8-bit single-channel (Gray8) PNG.</summary>
    public static byte[] EncodeGrayPng(int width, int height, Func<int, int, byte> value)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        var span = bitmap.GetPixelSpan();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                span[(y * bitmap.RowBytes) + x] = value(x, y);
            }
        }

        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKPngEncoderOptions());
        Assert.NotNull(data);
        return data.ToArray();
    }

    private static SKBitmap ToBitmap(SKColor[,] grid)
    {
        var height = grid.GetLength(0);
        var width = grid.GetLength(1);
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, grid[y, x]);
            }
        }

        return bitmap;
    }
}
