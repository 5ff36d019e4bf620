using System.Buffers.Binary;
using System.Diagnostics;

namespace KdData.Imaging;

/// <summary>
/// Reads the format signature and the declared dimensions straight from the header bytes, before Skia
/// sees the data. This lets us (a) restrict decoding to the five supported formats (Skia would also accept
/// e.g. WBMP, whose weak signature matches many random byte strings) and (b) refuse decompression bombs
/// even when Skia's codec would not report dimensions (a PNG whose IHDR is followed by nothing).
/// </summary>
internal static class ImageHeaderProbe
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static ReadOnlySpan<byte> JpegSignature => [0xFF, 0xD8, 0xFF];

    private static ReadOnlySpan<byte> Gif87 => "GIF87a"u8;

    private static ReadOnlySpan<byte> Gif89 => "GIF89a"u8;

    private static ReadOnlySpan<byte> Bmp => "BM"u8;

    private static ReadOnlySpan<byte> Riff => "RIFF"u8;

    private static ReadOnlySpan<byte> WebP => "WEBP"u8;

    /// <summary>
    /// Detects the format and, where the header holds them, the declared width and height (null when the
    /// header does not state them in a place we parse; Skia's codec is then the authority).
    /// </summary>
    /// <exception cref="ImageDecodeException">unknown_format, truncated or corrupt.</exception>
    public static (ImageFormatKind Format, long? Width, long? Height) Probe(ReadOnlySpan<byte> data, string key)
    {
        Debug.Assert(!data.IsEmpty, "empty input is rejected before probing");
        var format = DetectFormat(data, key);
        (long Width, long Height)? size = format switch
        {
            ImageFormatKind.Png => ProbePng(data, key),
            ImageFormatKind.Gif => ProbeGif(data, key),
            ImageFormatKind.Bmp => ProbeBmp(data, key),
            ImageFormatKind.WebP => ProbeWebP(data, key),
            ImageFormatKind.Jpeg => ProbeJpeg(data, key),
            _ => null,
        };
        return (format, size?.Width, size?.Height);
    }

    private static ImageFormatKind DetectFormat(ReadOnlySpan<byte> data, string key)
    {
        if (data.StartsWith(JpegSignature))
        {
            return ImageFormatKind.Jpeg;
        }

        if (data.StartsWith(PngSignature))
        {
            return ImageFormatKind.Png;
        }

        if (data.StartsWith(Gif87) || data.StartsWith(Gif89))
        {
            return ImageFormatKind.Gif;
        }

        if (data.Length >= 12 && data.StartsWith(Riff) && data.Slice(8, 4).SequenceEqual(WebP))
        {
            return ImageFormatKind.WebP;
        }

        // BMP's 2-byte signature is weak, so also require the header-size field to be a real DIB header size.
        if (data.StartsWith(Bmp) && data.Length >= 18)
        {
            var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(14, 4));
            if (dibSize is 12 or 16 or 40 or 52 or 56 or 64 or 108 or 124)
            {
                return ImageFormatKind.Bmp;
            }
        }

        // A few bytes that are the start of a known signature: a file cut short, not a foreign format.
        if (IsPrefixOfSignature(data))
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Truncated, $"only {data.Length} bytes, ends inside the format signature");
        }

        throw new ImageDecodeException(key, ImageDecodeReason.UnknownFormat, "signature is not JPEG, PNG, WebP, BMP or GIF");
    }

    private static bool IsPrefixOfSignature(ReadOnlySpan<byte> data)
    {
        static bool IsPrefix(ReadOnlySpan<byte> d, ReadOnlySpan<byte> sig) =>
            d.Length < sig.Length ? sig.StartsWith(d) : d.StartsWith(sig);

        return (data.Length < PngSignature.Length && IsPrefix(data, PngSignature))
            || (data.Length < JpegSignature.Length && IsPrefix(data, JpegSignature))
            || (data.Length < Gif89.Length && (IsPrefix(data, Gif89) || IsPrefix(data, Gif87)))
            || (data.Length < 18 && IsPrefix(data, Bmp))
            || (data.Length < 12 && IsPrefix(data, Riff));
    }

    private static (long, long) ProbePng(ReadOnlySpan<byte> data, string key)
    {
        // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
        if (data.Length < 24)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "PNG ends before the IHDR dimensions");
        }

        if (!data.Slice(12, 4).SequenceEqual("IHDR"u8))
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "PNG does not start with an IHDR chunk");
        }

        // A header-only file with an impossible IHDR would otherwise surface from libpng as "incomplete
        // input"; an invalid header is corruption regardless of what follows.
        if (data.Length >= 26 && !IsValidPngDepth(colorType: data[25], bitDepth: data[24]))
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, $"PNG IHDR has invalid bit depth {data[24]} / colour type {data[25]}");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(data.Slice(16, 4)), BinaryPrimitives.ReadUInt32BigEndian(data.Slice(20, 4)));
    }

    private static bool IsValidPngDepth(byte colorType, byte bitDepth) => colorType switch
    {
        0 => bitDepth is 1 or 2 or 4 or 8 or 16, // gray
        3 => bitDepth is 1 or 2 or 4 or 8, // palette
        2 or 4 or 6 => bitDepth is 8 or 16, // RGB, gray + alpha, RGBA
        _ => false,
    };

    private static (long, long) ProbeGif(ReadOnlySpan<byte> data, string key)
    {
        if (data.Length < 10)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "GIF ends before the logical screen size");
        }

        return (BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(6, 2)), BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(8, 2)));
    }

    private static (long, long) ProbeBmp(ReadOnlySpan<byte> data, string key)
    {
        var dibSize = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(14, 4));
        if (dibSize == 12)
        {
            if (data.Length < 22)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "BMP ends before the core header dimensions");
            }

            return (BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(18, 2)), BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(20, 2)));
        }

        if (data.Length < 26)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "BMP ends before the info header dimensions");
        }

        // Height is negative for top-down bitmaps; the pixel count uses its magnitude.
        long width = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(18, 4));
        long height = BinaryPrimitives.ReadInt32LittleEndian(data.Slice(22, 4));
        return (Math.Abs(width), Math.Abs(height));
    }

    private static (long, long)? ProbeWebP(ReadOnlySpan<byte> data, string key)
    {
        if (data.Length < 30)
        {
            throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "WebP ends before the frame header");
        }

        var chunk = data.Slice(12, 4);
        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Extended format: 24-bit little-endian (width - 1) and (height - 1) of the canvas.
            long w = 1 + data[24] + (data[25] << 8) + (data[26] << 16);
            long h = 1 + data[27] + (data[28] << 8) + (data[29] << 16);
            return (w, h);
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Lossless: signature byte 0x2F, then 14 bits (width - 1) and 14 bits (height - 1).
            if (data[20] != 0x2F)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "WebP lossless signature byte is wrong");
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(21, 4));
            return (1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF));
        }

        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
            if (data[23] != 0x9D || data[24] != 0x01 || data[25] != 0x2A)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "WebP lossy start code is wrong");
            }

            return (BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(26, 2)) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(28, 2)) & 0x3FFF);
        }

        throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "WebP has no VP8/VP8L/VP8X chunk first");
    }

    private static (long, long)? ProbeJpeg(ReadOnlySpan<byte> data, string key)
    {
        // Walk the marker segments up to the first SOFn, which holds the frame dimensions.
        var pos = 2;
        while (true)
        {
            if (pos + 4 > data.Length)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "JPEG ends before the frame header (SOF)");
            }

            if (data[pos] != 0xFF)
            {
                // Non-conforming filler between segments: leave the verdict to the real decoder.
                return null;
            }

            var marker = data[pos + 1];
            if (marker == 0xFF)
            {
                pos++; // fill byte
                continue;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                pos += 2; // stand-alone markers without a length
                continue;
            }

            if (marker is 0xD9 or 0xDA)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "JPEG reaches scan data or EOI without a frame header (SOF)");
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos + 2, 2));
            if (length < 2)
            {
                throw new ImageDecodeException(key, ImageDecodeReason.Corrupt, "JPEG segment length is invalid");
            }

            var isSof = marker is >= 0xC0 and <= 0xCF && marker is not (0xC4 or 0xC8 or 0xCC);
            if (isSof)
            {
                // Segment: length(2) precision(1) height(2) width(2).
                if (pos + 9 > data.Length)
                {
                    throw new ImageDecodeException(key, ImageDecodeReason.Truncated, "JPEG ends inside the frame header (SOF)");
                }

                long height = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos + 5, 2));
                long width = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(pos + 7, 2));
                return (width, height);
            }

            pos += 2 + length;
        }
    }
}
