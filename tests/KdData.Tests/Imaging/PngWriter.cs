using System.Buffers.Binary;
using System.IO.Compression;

namespace KdData.Tests.Imaging;

/// <summary>Writes PNGs by hand (for 16-bit depth, which SkiaSharp's encoder does not produce from 8-bit
/// input, and for headers that declare sizes with no data behind them).</summary>
internal static class PngWriter
{
    /// <summary>16-bit PNG. <paramref name="samples"/> is [height, width * channels] (channels 1 = gray,
    /// 3 = RGB).</summary>
    public static byte[] Write16(int width, int height, int channels, ushort[,] samples)
    {
        var colorType = channels == 1 ? (byte)0 : (byte)2;
        var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0); // filter: none
            for (var i = 0; i < width * channels; i++)
            {
                raw.WriteByte((byte)(samples[y, i] >> 8));
                raw.WriteByte((byte)samples[y, i]);
            }
        }

        byte[] compressed;
        using (var zlibBuffer = new MemoryStream())
        {
            using (var zlib = new ZLibStream(zlibBuffer, CompressionLevel.Optimal, leaveOpen: true))
            {
                raw.Position = 0;
                raw.CopyTo(zlib);
            }

            compressed = zlibBuffer.ToArray();
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", Ihdr(width, height, 16, colorType));
        WriteChunk(png, "IDAT", compressed);
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A PNG that is only a signature and an IHDR chunk (valid CRC), declaring the given size.</summary>
    public static byte[] HeaderOnly(uint width, uint height, byte bitDepth = 8, byte colorType = 2)
    {
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        WriteChunk(png, "IHDR", Ihdr(width, height, bitDepth, colorType));
        return png.ToArray();
    }

    private static byte[] Ihdr(long width, long height, byte bitDepth, byte colorType)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        return ihdr; // compression, filter, interlace = 0
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var header = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        png.Write(header);
        png.Write(data);
        var crc = Crc32(header.AsSpan(4), data);
        var crcBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        png.Write(crcBytes);
    }

    /// <summary>CRC-32 (IEEE, reflected polynomial 0xEDB88320) over type + data, bit by bit.</summary>
    private static uint Crc32(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        void Update(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                {
                    crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
                }
            }
        }

        Update(type);
        Update(data);
        return crc ^ 0xFFFFFFFFu;
    }
}
