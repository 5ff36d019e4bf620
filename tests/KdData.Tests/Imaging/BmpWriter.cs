using System.Buffers.Binary;
using SkiaSharp;

namespace KdData.Tests.Imaging;

/// <summary>Writes an uncompressed 24-bit bottom-up BMP (BITMAPFILEHEADER + BITMAPINFOHEADER).</summary>
internal static class BmpWriter
{
    public static byte[] Write(SKColor[,] grid) => Write(grid.GetLength(1), grid.GetLength(0), grid);

    /// <summary>Writes the header for <paramref name="width"/> x <paramref name="height"/>; pixel rows come
    /// from <paramref name="grid"/> (pass null to write a header with no pixel data).</summary>
    public static byte[] Write(int width, int height, SKColor[,]? grid)
    {
        var rowBytes = ((width * 3) + 3) & ~3;
        var pixelBytes = grid is null ? 0 : rowBytes * height;
        var bytes = new byte[54 + pixelBytes];
        var s = bytes.AsSpan();
        s[0] = (byte)'B';
        s[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(s[2..], bytes.Length);
        BinaryPrimitives.WriteInt32LittleEndian(s[10..], 54); // pixel data offset
        BinaryPrimitives.WriteInt32LittleEndian(s[14..], 40); // BITMAPINFOHEADER size
        BinaryPrimitives.WriteInt32LittleEndian(s[18..], width);
        BinaryPrimitives.WriteInt32LittleEndian(s[22..], height); // positive: bottom-up rows
        BinaryPrimitives.WriteInt16LittleEndian(s[26..], 1); // planes
        BinaryPrimitives.WriteInt16LittleEndian(s[28..], 24); // bits per pixel
        BinaryPrimitives.WriteInt32LittleEndian(s[30..], 0); // BI_RGB
        BinaryPrimitives.WriteInt32LittleEndian(s[34..], pixelBytes);
        BinaryPrimitives.WriteInt32LittleEndian(s[38..], 2835);
        BinaryPrimitives.WriteInt32LittleEndian(s[42..], 2835);
        if (grid is not null)
        {
            for (var y = 0; y < height; y++)
            {
                var row = 54 + ((height - 1 - y) * rowBytes);
                for (var x = 0; x < width; x++)
                {
                    var c = grid[y, x];
                    bytes[row + (x * 3)] = c.Blue;
                    bytes[row + (x * 3) + 1] = c.Green;
                    bytes[row + (x * 3) + 2] = c.Red;
                }
            }
        }

        return bytes;
    }
}
