namespace KdData.Tests.Imaging;

/// <summary>
/// Writes a GIF89a with a 4-entry global palette and one or more full-size frames. The LZW stream uses
/// minimum code size 2 and sends a Clear code before every two literal codes, so the code table never grows
/// and every code stays 3 bits wide: valid LZW, just uncompressed.
/// </summary>
internal static class GifWriter
{
    private const int MinCodeSize = 2;
    private const int ClearCode = 1 << MinCodeSize; // 4
    private const int EndCode = ClearCode + 1; // 5
    private const int CodeWidth = MinCodeSize + 1; // 3

    /// <param name="width">Logical screen and frame width.</param>
    /// <param name="height">Logical screen and frame height.</param>
    /// <param name="palette">Exactly 4 RGB colours.</param>
    /// <param name="frames">Palette indices (0..3), each frame [height, width].</param>
    public static byte[] Write(int width, int height, (byte R, byte G, byte B)[] palette, params byte[][,] frames)
    {
        Assert.Equal(4, palette.Length);
        using var stream = new MemoryStream();
        stream.Write("GIF89a"u8);
        WriteUInt16(stream, width);
        WriteUInt16(stream, height);
        stream.WriteByte(0x80 | 0x01); // global colour table present, 2^(1+1) = 4 entries
        stream.WriteByte(0); // background colour index
        stream.WriteByte(0); // pixel aspect ratio
        foreach (var (r, g, b) in palette)
        {
            stream.WriteByte(r);
            stream.WriteByte(g);
            stream.WriteByte(b);
        }

        foreach (var frame in frames)
        {
            // Graphic control extension: no transparency, 10 ms delay, disposal "none".
            stream.Write([0x21, 0xF9, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00]);
            stream.WriteByte(0x2C); // image descriptor
            WriteUInt16(stream, 0);
            WriteUInt16(stream, 0);
            WriteUInt16(stream, width);
            WriteUInt16(stream, height);
            stream.WriteByte(0); // no local colour table, not interlaced
            stream.WriteByte(MinCodeSize);
            var lzw = EncodeLzw(frame);
            for (var offset = 0; offset < lzw.Length; offset += 255)
            {
                var count = Math.Min(255, lzw.Length - offset);
                stream.WriteByte((byte)count);
                stream.Write(lzw, offset, count);
            }

            stream.WriteByte(0); // block terminator
        }

        stream.WriteByte(0x3B); // trailer
        return stream.ToArray();
    }

    private static byte[] EncodeLzw(byte[,] indices)
    {
        var codes = new List<int>();
        var sinceClear = 0;
        foreach (var index in indices)
        {
            if (sinceClear % 2 == 0)
            {
                codes.Add(ClearCode);
            }

            codes.Add(index);
            sinceClear++;
        }

        codes.Add(EndCode);

        // Pack codes least-significant bit first.
        var output = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var code in codes)
        {
            buffer |= code << bits;
            bits += CodeWidth;
            while (bits >= 8)
            {
                output.Add((byte)buffer);
                buffer >>= 8;
                bits -= 8;
            }
        }

        if (bits > 0)
        {
            output.Add((byte)buffer);
        }

        return [.. output];
    }

    private static void WriteUInt16(Stream stream, int value)
    {
        stream.WriteByte((byte)value);
        stream.WriteByte((byte)(value >> 8));
    }
}
