using System.Buffers.Binary;

namespace KdData.Tests.Imaging;

/// <summary>Edits JPEG marker segments: inserts an EXIF orientation and finds/patches the SOF header.</summary>
internal static class JpegMarkers
{
    /// <summary>Inserts an APP1 "Exif" segment (big-endian TIFF, one IFD0 entry: Orientation) after SOI.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8);
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // header, IFD0 at offset 8
            0x00, 0x01, // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, // tag 0x0112 Orientation, SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0x00, 0x00, // value, padded to 4 bytes
            0x00, 0x00, 0x00, 0x00, // no next IFD
        ];
        var payload = new byte[6 + tiff.Length];
        "Exif\0\0"u8.CopyTo(payload);
        tiff.CopyTo(payload, 6);
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(2 + payload.Length));
        payload.CopyTo(segment, 4);
        return [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)];
    }

    /// <summary>Offset of the first SOFn marker (FF Cx), or -1.</summary>
    public static int FindSof(byte[] jpeg)
    {
        var pos = 2;
        while (pos + 4 <= jpeg.Length && jpeg[pos] == 0xFF)
        {
            var marker = jpeg[pos + 1];
            if (marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC))
            {
                return pos;
            }

            pos += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2));
        }

        return -1;
    }

    /// <summary>A copy whose SOF header declares <paramref name="width"/> x <paramref name="height"/>.</summary>
    public static byte[] WithDeclaredSize(byte[] jpeg, ushort width, ushort height)
    {
        var copy = (byte[])jpeg.Clone();
        var sof = FindSof(copy);
        Assert.True(sof > 0);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), height);
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), width);
        return copy;
    }
}
