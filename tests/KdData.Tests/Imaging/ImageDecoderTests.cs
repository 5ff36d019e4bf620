using KdData.Imaging;
using SkiaSharp;

namespace KdData.Tests.Imaging;

public sealed class ImageDecoderTests
{
    private const int JpegTolerance = 12;

    private static readonly SKColor Red = new(220, 30, 40);
    private static readonly SKColor Green = new(30, 200, 60);
    private static readonly SKColor Blue = new(40, 50, 210);
    private static readonly SKColor White = new(250, 250, 250);

    private readonly ImageDecoder _decoder = new(new ImageOptions());

    public static TheoryData<SKEncodedImageFormat> SkiaFormats => [SKEncodedImageFormat.Png, SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Webp];

    [Theory]
    [MemberData(nameof(SkiaFormats))]
    public void Decode_SkiaEncodedQuadrants_KeepsSizeAndColours(SKEncodedImageFormat format)
    {
        var grid = TestImages.Quadrants(48, 32, Red, Green, Blue, White);
        var bytes = TestImages.Encode(grid, format);

        using var image = _decoder.Decode(bytes, $"quadrants.{format}");

        Assert.Equal(48, image.Width);
        Assert.Equal(32, image.Height);
        Assert.Equal(format, image.Format);
        var tolerance = format == SKEncodedImageFormat.Jpeg ? JpegTolerance : 0;
        AssertColor(Red, image.GetPixel(12, 8), tolerance);
        AssertColor(Green, image.GetPixel(36, 8), tolerance);
        AssertColor(Blue, image.GetPixel(12, 24), tolerance);
        AssertColor(White, image.GetPixel(36, 24), tolerance);
    }

    [Fact]
    public void Decode_ReadOnlyMemorySlice_DecodesOnlyTheSlice()
    {
        var png = TestImages.Encode(TestImages.Quadrants(8, 8, Red, Green, Blue, White), SKEncodedImageFormat.Png);
        var padded = new byte[png.Length + 20];
        png.CopyTo(padded, 10);

        using var image = _decoder.Decode(padded.AsMemory(10, png.Length), "slice.png");

        AssertColor(Red, image.GetPixel(0, 0), 0);
    }

    [Fact]
    public void Decode_HandWrittenBmp_ReadsBottomUpRowsInOrder()
    {
        var grid = TestImages.Quadrants(10, 6, Red, Green, Blue, White);

        using var image = _decoder.Decode(BmpWriter.Write(grid), "quadrants.bmp");

        Assert.Equal(SKEncodedImageFormat.Bmp, image.Format);
        Assert.Equal((10, 6), (image.Width, image.Height));
        for (var y = 0; y < 6; y++)
        {
            for (var x = 0; x < 10; x++)
            {
                AssertColor(grid[y, x], image.GetPixel(x, y), 0);
            }
        }
    }

    [Fact]
    public void Decode_MultiFrameGif_ReturnsFirstFrame()
    {
        (byte, byte, byte)[] palette = [(220, 30, 40), (30, 200, 60), (40, 50, 210), (250, 250, 250)];
        var first = new byte[5, 7];
        var second = new byte[5, 7];
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 7; x++)
            {
                first[y, x] = (byte)((x + y) % 3);
                second[y, x] = 3;
            }
        }

        using var image = _decoder.Decode(GifWriter.Write(7, 5, palette, first, second), "two-frames.gif");

        Assert.Equal(SKEncodedImageFormat.Gif, image.Format);
        Assert.Equal((7, 5), (image.Width, image.Height));
        for (var y = 0; y < 5; y++)
        {
            for (var x = 0; x < 7; x++)
            {
                var (r, g, b) = palette[first[y, x]];
                AssertColor(new SKColor(r, g, b), image.GetPixel(x, y), 0);
            }
        }
    }

    [Fact]
    public void Decode_GrayscalePng_ReplicatesGrayIntoRgb()
    {
        var bytes = TestImages.EncodeGrayPng(6, 4, (x, y) => (byte)((x * 40) + y));

        using var image = _decoder.Decode(bytes, "gray.png");

        Assert.False(image.HasAlpha);
        var c = image.GetPixel(5, 3);
        Assert.Equal((203, 203, 203), (c.Red, c.Green, c.Blue));
    }

    [Fact]
    public void Decode_Rgb16BitPng_ConvertsSamplesTo8Bit()
    {
        // 0x8080 / 257 = 128 and 0x4040 / 257 = 64 exactly, whichever 16->8 rounding the decoder uses.
        var samples = new ushort[2, 2 * 3];
        for (var y = 0; y < 2; y++)
        {
            samples[y, 0] = 0xFFFF;
            samples[y, 1] = 0x8080;
            samples[y, 2] = 0x0000;
            samples[y, 3] = 0x4040;
            samples[y, 4] = 0x0000;
            samples[y, 5] = 0xFFFF;
        }

        using var image = _decoder.Decode(PngWriter.Write16(2, 2, 3, samples), "rgb16.png");

        AssertColor(new SKColor(255, 128, 0), image.GetPixel(0, 1), 1);
        AssertColor(new SKColor(64, 0, 255), image.GetPixel(1, 1), 1);
    }

    [Fact]
    public void Decode_Gray16BitPng_ConvertsSamplesTo8Bit()
    {
        var samples = new ushort[1, 3] { { 0x0000, 0x8080, 0xFFFF } };

        using var image = _decoder.Decode(PngWriter.Write16(3, 1, 1, samples), "gray16.png");

        Assert.Equal([0, 128, 255], [image.GetPixel(0, 0).Red, image.GetPixel(1, 0).Green, image.GetPixel(2, 0).Blue]);
    }

    [Fact]
    public void Decode_PngWithAlpha_KeepsUnpremultipliedColourAndAlpha()
    {
        var grid = TestImages.Fill(4, 4, (x, _) => x < 2 ? new SKColor(255, 0, 0, 128) : new SKColor(0, 0, 255, 0));

        using var image = _decoder.Decode(TestImages.Encode(grid, SKEncodedImageFormat.Png), "alpha.png");

        Assert.True(image.HasAlpha);
        var half = image.GetPixel(0, 0);
        Assert.Equal(128, half.Alpha);
        Assert.InRange(half.Red, 250, 255);
        Assert.Equal(0, image.GetPixel(3, 3).Alpha);
    }

    [Fact]
    public void Decode_CmykJpegFixture_ConvertsToRgb()
    {
        var bytes = File.ReadAllBytes(FixturePath("cmyk-quadrants-16x16.jpg"));
        var sof = JpegMarkers.FindSof(bytes);
        Assert.Equal(4, bytes[sof + 9]); // component count: the fixture really is 4-channel

        using var image = _decoder.Decode(bytes, "cmyk.jpg");

        Assert.Equal((16, 16), (image.Width, image.Height));
        AssertColor(new SKColor(255, 0, 0), image.GetPixel(3, 3), 24);
        AssertColor(new SKColor(0, 255, 0), image.GetPixel(12, 3), 24);
        AssertColor(new SKColor(0, 0, 255), image.GetPixel(3, 12), 24);
        AssertColor(new SKColor(255, 255, 255), image.GetPixel(12, 12), 24);
    }

    // Raw image 64x32 with quadrants R G / B W. Expected display quadrants (TL, TR, BL, BR) per EXIF 1..8,
    // written out from the EXIF definition of where stored row 0 / column 0 appear.
    [Theory]
    [InlineData(1, "RGBW", false)]
    [InlineData(2, "GRWB", false)] // mirror horizontal
    [InlineData(3, "WBGR", false)] // rotate 180
    [InlineData(4, "BWRG", false)] // mirror vertical
    [InlineData(5, "RBGW", true)] // transpose
    [InlineData(6, "BRWG", true)] // rotate 90 clockwise
    [InlineData(7, "WGBR", true)] // transverse
    [InlineData(8, "GWRB", true)] // rotate 90 counter-clockwise
    public void Decode_JpegWithExifOrientation_MovesMarkedCorners(int orientation, string expectedQuadrants, bool swapsAxes)
    {
        var raw = TestImages.Quadrants(64, 32, Red, Green, Blue, White);
        var jpeg = JpegMarkers.WithExifOrientation(TestImages.Encode(raw, SKEncodedImageFormat.Jpeg), (ushort)orientation);

        using var image = _decoder.Decode(jpeg, $"exif-{orientation}.jpg");

        Assert.Equal((int)image.Origin, orientation);
        Assert.Equal(swapsAxes ? (32, 64) : (64, 32), (image.Width, image.Height));
        int qw = image.Width / 4, qh = image.Height / 4;
        (int X, int Y)[] centres = [(qw, qh), (3 * qw, qh), (qw, 3 * qh), (3 * qw, 3 * qh)];
        for (var q = 0; q < 4; q++)
        {
            var expected = expectedQuadrants[q] switch { 'R' => Red, 'G' => Green, 'B' => Blue, _ => White };
            AssertColor(expected, image.GetPixel(centres[q].X, centres[q].Y), JpegTolerance);
        }
    }

    [Fact]
    public void Decode_Empty_ThrowsEmpty()
    {
        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(ReadOnlyMemory<byte>.Empty, "empty.jpg"));

        Assert.Equal(ImageDecodeReason.Empty, ex.Reason);
        Assert.Equal("empty.jpg", ex.Key);
        Assert.Contains("empty.jpg", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RandomBytes_ThrowsUnknownFormat()
    {
        var bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "noise.bin"));

        Assert.Equal(ImageDecodeReason.UnknownFormat, ex.Reason);
    }

    [Fact]
    public void Decode_TextFile_ThrowsUnknownFormat()
    {
        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode("hello, this is not an image"u8.ToArray(), "a.txt"));

        Assert.Equal(ImageDecodeReason.UnknownFormat, ex.Reason);
    }

    [Fact]
    public void Decode_PngHeaderDeclaringHugeSizeWithoutData_ThrowsTooLarge()
    {
        var bytes = PngWriter.HeaderOnly(100_000, 100_000);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "bomb.png"));

        Assert.Equal(ImageDecodeReason.TooLarge, ex.Reason);
        Assert.Contains("100000x100000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_JpegSofDeclaringHugeSize_ThrowsTooLarge()
    {
        var jpeg = TestImages.Encode(TestImages.Noise(16, 16, 1), SKEncodedImageFormat.Jpeg);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(JpegMarkers.WithDeclaredSize(jpeg, 60_000, 60_000), "bomb.jpg"));

        Assert.Equal(ImageDecodeReason.TooLarge, ex.Reason);
    }

    [Fact]
    public void Decode_GifAndBmpHeadersDeclaringHugeSize_ThrowTooLarge()
    {
        (byte, byte, byte)[] palette = [(0, 0, 0), (1, 1, 1), (2, 2, 2), (3, 3, 3)];
        var gif = GifWriter.Write(2, 2, palette, new byte[2, 2]);
        gif[6] = gif[7] = gif[8] = gif[9] = 0xFF; // logical screen 65535 x 65535
        var bmp = BmpWriter.Write(50_000, 50_000, null);

        Assert.Equal(ImageDecodeReason.TooLarge, Assert.Throws<ImageDecodeException>(() => _decoder.Decode(gif, "bomb.gif")).Reason);
        Assert.Equal(ImageDecodeReason.TooLarge, Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bmp, "bomb.bmp")).Reason);
    }

    [Fact]
    public void Decode_LosslessWebPHeaderDeclaringHugeSize_ThrowsTooLarge()
    {
        var webp = TestImages.Encode(TestImages.Noise(16, 16, 8), SKEncodedImageFormat.Webp);
        Assert.Equal("VP8L"u8.ToArray(), webp[12..16]);
        Assert.Equal(0x2F, webp[20]);

        // VP8L header: 14 bits (width - 1), 14 bits (height - 1), little-endian after the 0x2F byte.
        var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(21));
        bits = (bits & 0xF000_0000u) | 0x3FFFu | (0x3FFFu << 14); // 16384 x 16384
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(webp.AsSpan(21), bits);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(webp, "bomb.webp"));

        Assert.Equal(ImageDecodeReason.TooLarge, ex.Reason);
        Assert.Contains("16384x16384", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_OverConfiguredMaxPixels_ThrowsTooLarge()
    {
        var decoder = new ImageDecoder(new ImageOptions { MaxPixels = 99 * 100 });
        var png = TestImages.Encode(TestImages.Noise(100, 100, 2), SKEncodedImageFormat.Png);

        var ex = Assert.Throws<ImageDecodeException>(() => decoder.Decode(png, "big.png"));

        Assert.Equal(ImageDecodeReason.TooLarge, ex.Reason);
        using var atLimit = new ImageDecoder(new ImageOptions { MaxPixels = 100 * 100 }).Decode(png, "ok.png");
        Assert.Equal(100, atLimit.Width);
    }

    [Fact]
    public void Decode_OverConfiguredMaxBytes_ThrowsTooLarge()
    {
        var png = TestImages.Encode(TestImages.Noise(32, 32, 3), SKEncodedImageFormat.Png);
        var decoder = new ImageDecoder(new ImageOptions { MaxBytes = png.Length - 1 });

        var ex = Assert.Throws<ImageDecodeException>(() => decoder.Decode(png, "big.png"));

        Assert.Equal(ImageDecodeReason.TooLarge, ex.Reason);
    }

    public static TheoryData<SKEncodedImageFormat> TruncatableFormats => [SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Png, SKEncodedImageFormat.Webp];

    [Theory]
    [MemberData(nameof(TruncatableFormats))]
    public void Decode_CutInHalf_ThrowsTruncated(SKEncodedImageFormat format)
    {
        var bytes = TestImages.Encode(TestImages.Noise(64, 64, 4), format);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes.AsMemory(0, bytes.Length / 2), $"half.{format}"));

        Assert.Equal(ImageDecodeReason.Truncated, ex.Reason);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(20)]
    public void Decode_OnlyFirstBytesOfPng_ThrowsTruncated(int length)
    {
        var png = TestImages.Encode(TestImages.Noise(8, 8, 5), SKEncodedImageFormat.Png);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(png.AsMemory(0, length), "short.png"));

        Assert.Equal(ImageDecodeReason.Truncated, ex.Reason);
    }

    [Fact]
    public void Decode_BmpCutShort_ThrowsTruncated()
    {
        var bmp = BmpWriter.Write(TestImages.Noise(32, 32, 6));

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bmp.AsMemory(0, bmp.Length / 2), "half.bmp"));

        Assert.Equal(ImageDecodeReason.Truncated, ex.Reason);
    }

    [Fact]
    public void Decode_PngWithInvalidIhdr_ThrowsCorrupt()
    {
        // Bit depth 7 with colour type 9 do not exist in PNG.
        var bytes = PngWriter.HeaderOnly(16, 16, bitDepth: 7, colorType: 9);

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "bad-ihdr.png"));

        Assert.Equal(ImageDecodeReason.Corrupt, ex.Reason);
    }

    [Fact]
    public void Decode_JpegSignatureFollowedByGarbage_ThrowsCorrupt()
    {
        var bytes = new byte[512];
        new Random(99).NextBytes(bytes);
        bytes[0] = 0xFF;
        bytes[1] = 0xD8;
        bytes[2] = 0xFF;
        bytes[3] = 0xDA; // start of scan before any frame header

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(bytes, "garbage.jpg"));

        Assert.Equal(ImageDecodeReason.Corrupt, ex.Reason);
    }

    [Fact]
    public void Decode_PngWithScrambledPixelData_ThrowsCorrupt()
    {
        var png = TestImages.Encode(TestImages.Noise(32, 32, 7), SKEncodedImageFormat.Png);
        var idat = png.AsSpan().IndexOf("IDAT"u8);
        Assert.True(idat > 0);
        // Overwrite the zlib header and the start of the deflate stream inside IDAT.
        for (var i = idat + 4; i < idat + 40; i++)
        {
            png[i] = 0xFF;
        }

        var ex = Assert.Throws<ImageDecodeException>(() => _decoder.Decode(png, "scrambled.png"));

        Assert.Equal(ImageDecodeReason.Corrupt, ex.Reason);
    }

    [Fact]
    public void Reason_Codes_AreDistinctSnakeCaseStrings()
    {
        Assert.Equal(ImageDecodeReason.All.Count, ImageDecodeReason.All.Distinct().Count());
        Assert.All(ImageDecodeReason.All, code => Assert.Matches("^[a-z]+(_[a-z]+)*$", code));
        Assert.Contains("too_large", ImageDecodeReason.All);
        Assert.Contains("unknown_format", ImageDecodeReason.All);
    }

    internal static void AssertColor(SKColor expected, SKColor actual, int tolerance)
    {
        Assert.True(
            Math.Abs(expected.Red - actual.Red) <= tolerance
            && Math.Abs(expected.Green - actual.Green) <= tolerance
            && Math.Abs(expected.Blue - actual.Blue) <= tolerance,
            $"expected {expected} within {tolerance}, got {actual}");
    }

    internal static string FixturePath(string name)
    {
        // Fixtures are read from the source tree (found by walking up from the test output folder), so the
        // test project needs no copy-to-output items.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "KdData.Tests", "Fixtures", "images", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Fixture '{name}' not found above {AppContext.BaseDirectory}.");
    }
}
