using KdData.Imaging;
using SkiaSharp;

namespace KdData.Tests.Imaging;

public sealed class ImagePreprocessorTests
{
    private const float Exact = 1e-6f;

    private static readonly ImageDecoder Decoder = new(new ImageOptions());

    /// <summary>Options whose output is plain value / 255 (mean 0, std 1).</summary>
    private static ImageOptions Identity(int size, int channels = 3, ResizeMode mode = ResizeMode.Stretch) => new()
    {
        OutputSize = size,
        ResizeSize = size,
        ResizeMode = mode,
        Channels = channels,
        Mean = channels == 3 ? [0f, 0f, 0f] : [0f],
        Std = channels == 3 ? [1f, 1f, 1f] : [1f],
    };

    private static DecodedImage DecodePng(SKColor[,] grid) =>
        Decoder.Decode(TestImages.Encode(grid, SKEncodedImageFormat.Png), "test.png");

    /// <summary>A 32x32 image whose red channel encodes x and green encodes y (value = 8 * coordinate).</summary>
    private static SKColor[,] CoordinatePattern() =>
        TestImages.Fill(32, 32, (x, y) => new SKColor((byte)(x * 8), (byte)(y * 8), 77));

    [Theory]
    [InlineData(1, 28, false)] // 1:1 copy path
    [InlineData(1, 20, true)]  // resampled crop, flipped
    [InlineData(3, 20, false)]
    [InlineData(3, 28, true)]
    public void NormaliseLevels_OfPreprocessLevels_IsBitIdenticalToPreprocess(int channels, int cropSide, bool flip)
    {
        var options = new ImageOptions
        {
            OutputSize = 28, ResizeSize = 28, Channels = channels,
            Mean = channels == 3 ? [0.2f, 0.4f, 0.6f] : [0.286f], Std = channels == 3 ? [0.3f, 0.2f, 0.1f] : [0.353f],
        };
        var preprocessor = new ImagePreprocessor(options);
        using var image = Decoder.Decode(TestImages.EncodeGrayPng(32, 32, (x, y) => (byte)((x * 7) + (y * 3))), "gray.png");
        var box = new CropBox(3, 2, cropSide, cropSide);

        var levels = preprocessor.PreprocessLevels(image, box, flip);

        Assert.NotNull(levels);
        Assert.Equal(channels * 28 * 28, levels.Length);
        Assert.Equal(preprocessor.Preprocess(image, box, flip), preprocessor.NormaliseLevels(levels));
    }

    [Fact]
    public void PreprocessLevels_ColourPixelToOneChannel_ReturnsNull()
    {
        // Luma of a non-grey pixel is computed in floats: 8-bit levels cannot carry it exactly.
        var preprocessor = new ImagePreprocessor(Identity(32, channels: 1));
        using var image = DecodePng(CoordinatePattern());

        Assert.Null(preprocessor.PreprocessLevels(image));
    }

    [Fact]
    public void NormaliseLevels_WrongLength_ThrowsNamingTheLengths()
    {
        var preprocessor = new ImagePreprocessor(Identity(28, channels: 1));

        var e = Assert.Throws<ArgumentException>(() => preprocessor.NormaliseLevels(new byte[10]));

        Assert.Contains("784", e.Message);
        Assert.Contains("10", e.Message);
    }

    [Fact]
    public void Preprocess_GrayPngAtOutputSize_ReturnsEachPixelOver255()
    {
        // 28x28 grayscale at 28x28: the 1:1 path that reads the bitmap without a Skia draw.
        var preprocessor = new ImagePreprocessor(Identity(28, channels: 1));
        using var image = Decoder.Decode(TestImages.EncodeGrayPng(28, 28, (x, y) => (byte)((x * 9) + y)), "gray.png");

        var payload = preprocessor.Preprocess(image);

        for (var y = 0; y < 28; y++)
        {
            for (var x = 0; x < 28; x++)
            {
                Assert.Equal((byte)((x * 9) + y) / 255f, payload[(y * 28) + x], Exact);
            }
        }
    }

    [Fact]
    public void Preprocess_OpaqueCropAtOutputSizeFlipped_MirrorsTheUnflippedCrop()
    {
        var preprocessor = new ImagePreprocessor(Identity(16));
        using var image = DecodePng(CoordinatePattern());
        var box = new CropBox(5, 3, 16, 16);

        var plain = preprocessor.Preprocess(image, box);
        var flipped = preprocessor.Preprocess(image, box, flipHorizontal: true);

        var plane = 16 * 16;
        for (var c = 0; c < 3; c++)
        {
            for (var y = 0; y < 16; y++)
            {
                for (var x = 0; x < 16; x++)
                {
                    Assert.Equal(plain[(c * plane) + (y * 16) + 15 - x], flipped[(c * plane) + (y * 16) + x]);
                }
            }
        }

        // Red encodes x and green y (8 per pixel), so the crop's first pixel is (5, 3) of the source.
        Assert.Equal(40 / 255f, plain[0], Exact);
        Assert.Equal(24 / 255f, plain[plane], Exact);
    }

    [Theory]
    [InlineData(1, false, false)]
    [InlineData(1, true, false)]
    [InlineData(1, false, true)]
    [InlineData(3, false, false)]
    [InlineData(3, true, false)]
    [InlineData(3, true, true)]
    public void Preprocess_OpaqueViewAtOutputSize_BitIdenticalToSkiaDraw(int channels, bool flip, bool grayPng)
    {
        // The 1:1 path skips the Skia surface; it must give exactly what the nearest-sampled draw onto the
        // background followed by the per-pixel formula gives (the path every view took before).
        var options = new ImageOptions
        {
            OutputSize = 20,
            ResizeSize = 20,
            ResizeMode = ResizeMode.Stretch,
            Channels = channels,
            Mean = channels == 3 ? [0.485f, 0.456f, 0.406f] : [0.286f],
            Std = channels == 3 ? [0.229f, 0.224f, 0.225f] : [0.353f],
        };
        var preprocessor = new ImagePreprocessor(options);
        var random = new Random(5);
        using var image = grayPng
            ? Decoder.Decode(TestImages.EncodeGrayPng(26, 23, (_, _) => (byte)random.Next(256)), "gray.png")
            : DecodePng(TestImages.Noise(26, 23, seed: 3));
        var box = new CropBox(4, 2, 20, 20);

        var actual = preprocessor.Preprocess(image, box, flip);

        var expected = SkiaReference(image, box, flip, options);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]));
        }
    }

    /// <summary>The draw-then-normalise computation of a view, written out with Skia and the per-pixel formula.</summary>
    private static float[] SkiaReference(DecodedImage image, CropBox box, bool flip, ImageOptions options)
    {
        var size = options.OutputSize;
        using var target = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(target))
        {
            canvas.Clear(SKColors.White);
            if (flip)
            {
                canvas.Translate(size, 0);
                canvas.Scale(-1, 1);
            }

            using var paint = new SKPaint();
            canvas.DrawImage(
                image.Image, SKRect.Create(box.X, box.Y, box.Width, box.Height), SKRect.Create(0, 0, size, size),
                new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None), paint);
            canvas.Flush();
        }

        var rgba = target.GetPixelSpan().ToArray();
        var mean = options.GetEffectiveMean();
        var std = options.GetEffectiveStd();
        const float Inv255 = 1f / 255f;
        var plane = size * size;
        var output = new float[options.Channels * plane];
        for (var i = 0; i < plane; i++)
        {
            var p = i * 4;
            if (options.Channels == 3)
            {
                for (var c = 0; c < 3; c++)
                {
                    output[(c * plane) + i] = ((rgba[p + c] * Inv255) - mean[c]) * (1f / std[c]);
                }
            }
            else
            {
                var luma = ((0.299f * rgba[p]) + (0.587f * rgba[p + 1]) + (0.114f * rgba[p + 2])) * Inv255;
                output[i] = (luma - mean[0]) * (1f / std[0]);
            }
        }

        return output;
    }

    [Fact]
    public void Preprocess_DefaultOptions_ReturnsChwPayloadOfExpectedLength()
    {
        var preprocessor = new ImagePreprocessor(new ImageOptions());
        using var image = DecodePng(TestImages.Noise(300, 200, 1));

        var payload = preprocessor.Preprocess(image);

        Assert.Equal(3 * 224 * 224, payload.Length);
        Assert.Equal(payload.Length, preprocessor.PayloadLength);
        Assert.All(payload, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Preprocess_UniformColourWithImageNetDefaults_AppliesMeanAndStdPerChannel()
    {
        var preprocessor = new ImagePreprocessor(new ImageOptions { OutputSize = 8, ResizeSize = 10 });
        using var image = DecodePng(TestImages.Fill(20, 12, (_, _) => new SKColor(200, 100, 50)));

        var payload = preprocessor.Preprocess(image);

        var plane = 8 * 8;
        var expected = new[] { ((200 / 255f) - 0.485f) / 0.229f, ((100 / 255f) - 0.456f) / 0.224f, ((50 / 255f) - 0.406f) / 0.225f };
        for (var c = 0; c < 3; c++)
        {
            for (var i = 0; i < plane; i++)
            {
                Assert.Equal(expected[c], payload[(c * plane) + i], 1e-4f);
            }
        }
    }

    [Fact]
    public void Preprocess_CropBoxAtNativeScale_ReplaysExactSourcePixels()
    {
        var preprocessor = new ImagePreprocessor(Identity(8));
        using var image = DecodePng(CoordinatePattern());

        var payload = preprocessor.Preprocess(image, new CropBox(4, 10, 8, 8));

        for (var row = 0; row < 8; row++)
        {
            for (var col = 0; col < 8; col++)
            {
                Assert.Equal((4 + col) * 8 / 255f, payload[(row * 8) + col], Exact); // R = 8x
                Assert.Equal((10 + row) * 8 / 255f, payload[64 + (row * 8) + col], Exact); // G = 8y
                Assert.Equal(77 / 255f, payload[128 + (row * 8) + col], Exact);
            }
        }
    }

    [Fact]
    public void Preprocess_CropBoxWithFlip_MirrorsColumns()
    {
        var preprocessor = new ImagePreprocessor(Identity(8));
        using var image = DecodePng(CoordinatePattern());

        var payload = preprocessor.Preprocess(image, new CropBox(4, 10, 8, 8), flipHorizontal: true);

        for (var row = 0; row < 8; row++)
        {
            for (var col = 0; col < 8; col++)
            {
                Assert.Equal((4 + 7 - col) * 8 / 255f, payload[(row * 8) + col], Exact);
                Assert.Equal((10 + row) * 8 / 255f, payload[64 + (row * 8) + col], Exact);
            }
        }
    }

    [Fact]
    public void Preprocess_CropBoxOnRotatedJpeg_UsesOrientedCoordinates()
    {
        // Stored 64x32 R G / B W rotated 90 degrees clockwise (EXIF 6) displays as 32x64 B R / W G;
        // the box (0, 32, 16, 16) lies inside the displayed bottom-left (white) quadrant.
        var raw = TestImages.Quadrants(64, 32, new SKColor(220, 30, 40), new SKColor(30, 200, 60), new SKColor(40, 50, 210), new SKColor(250, 250, 250));
        var jpeg = JpegMarkers.WithExifOrientation(TestImages.Encode(raw, SKEncodedImageFormat.Jpeg), 6);
        using var image = Decoder.Decode(jpeg, "rotated.jpg");
        var preprocessor = new ImagePreprocessor(Identity(4));

        var payload = preprocessor.Preprocess(image, new CropBox(4, 36, 8, 8));

        Assert.All(payload, v => Assert.InRange(v, 235 / 255f, 1f));
    }

    [Fact]
    public void Preprocess_CropBoxOutsideImage_ThrowsNamingTheKey()
    {
        var preprocessor = new ImagePreprocessor(Identity(8));
        using var image = DecodePng(CoordinatePattern());

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => preprocessor.Preprocess(image, new CropBox(30, 0, 8, 8)));

        Assert.Contains("test.png", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Preprocess_ShorterSideCenterCrop_TakesTheCentre()
    {
        // 40x20: red columns 0-9, green 10-29, blue 30-39. Shorter side 20 -> 10, centre 8x8 square covers
        // source x 12..28, well inside the green band (including the cubic filter's reach).
        var grid = TestImages.Fill(40, 20, (x, _) => x < 10 ? SKColors.Red : x < 30 ? SKColors.Lime : SKColors.Blue);
        var options = Identity(8, mode: ResizeMode.ShorterSideCenterCrop);
        options.ResizeSize = 10;
        using var image = DecodePng(grid);

        var payload = new ImagePreprocessor(options).Preprocess(image);

        var plane = 64;
        for (var i = 0; i < plane; i++)
        {
            Assert.Equal(0f, payload[i], 0.02f);
            Assert.Equal(1f, payload[plane + i], 0.02f);
            Assert.Equal(0f, payload[(2 * plane) + i], 0.02f);
        }
    }

    [Fact]
    public void Preprocess_Stretch_KeepsWholeImageIncludingEdges()
    {
        var grid = TestImages.Fill(40, 20, (x, _) => x < 10 ? SKColors.Red : x < 30 ? SKColors.Lime : SKColors.Blue);
        using var image = DecodePng(grid);

        var payload = new ImagePreprocessor(Identity(8)).Preprocess(image);

        // Column 0 is red, column 7 is blue: the side bands survive (a crop would have removed them).
        Assert.True(payload[(4 * 8) + 0] > 0.9f && payload[(2 * 64) + (4 * 8) + 0] < 0.1f);
        Assert.True(payload[(2 * 64) + (4 * 8) + 7] > 0.9f && payload[(4 * 8) + 7] < 0.1f);
    }

    [Fact]
    public void Preprocess_LargeReductionOfFineStripes_AveragesInsteadOfAliasing()
    {
        // Columns white, black, black, ... (period 3, mean 1/3) reduced 16x. A filter that averages the
        // footprint gives ~1/3 everywhere; a fixed 4-tap kernel lands on different stripe phases per output
        // column and swings between dark and light (aliasing).
        var grid = TestImages.Fill(256, 256, (x, _) => x % 3 == 0 ? SKColors.White : SKColors.Black);
        using var image = DecodePng(grid);

        var payload = new ImagePreprocessor(Identity(16)).Preprocess(image);

        Assert.All(payload, v => Assert.InRange(v, 0.25f, 0.42f));
    }

    [Fact]
    public void Preprocess_OneChannel_UsesBt601Luma()
    {
        var preprocessor = new ImagePreprocessor(new ImageOptions { OutputSize = 4, ResizeSize = 4, Channels = 1, Mean = [0.5f], Std = [0.25f] });
        using var image = DecodePng(TestImages.Fill(4, 4, (_, _) => new SKColor(200, 100, 50)));

        var payload = preprocessor.Preprocess(image);

        var luma = ((0.299f * 200) + (0.587f * 100) + (0.114f * 50)) / 255f;
        Assert.Equal(16, payload.Length);
        Assert.All(payload, v => Assert.Equal((luma - 0.5f) / 0.25f, v, 1e-4f));
    }

    [Fact]
    public void Preprocess_GraySourceToThreeChannels_ReplicatesValue()
    {
        using var image = Decoder.Decode(TestImages.EncodeGrayPng(4, 4, (x, y) => (byte)(10 * (x + (4 * y)))), "gray.png");

        var payload = new ImagePreprocessor(Identity(4)).Preprocess(image);

        for (var i = 0; i < 16; i++)
        {
            var expected = 10 * i / 255f;
            Assert.Equal(expected, payload[i], Exact);
            Assert.Equal(expected, payload[16 + i], Exact);
            Assert.Equal(expected, payload[32 + i], Exact);
        }
    }

    [Fact]
    public void Preprocess_TranslucentPixels_CompositesOntoBackground()
    {
        // (255, 0, 0) at alpha 128 over white: R = 255, G = B = 255 * (1 - 128/255) = 127.
        var grid = TestImages.Fill(4, 4, (x, _) => x < 2 ? new SKColor(255, 0, 0, 128) : new SKColor(0, 0, 255, 0));
        using var image = DecodePng(grid);

        var payload = new ImagePreprocessor(Identity(4)).Preprocess(image);

        Assert.Equal(1f, payload[0], 0.01f);
        Assert.Equal(127 / 255f, payload[16], 0.01f);
        Assert.Equal(127 / 255f, payload[32], 0.01f);

        // Fully transparent pixels show the background exactly, whatever RGB they stored.
        Assert.Equal([1f, 1f, 1f], [payload[3], payload[16 + 3], payload[32 + 3]]);
    }

    [Fact]
    public void Preprocess_CustomBackground_IsUsedForTransparentPixels()
    {
        var options = Identity(2);
        options.Background = "#102030";
        using var image = DecodePng(TestImages.Fill(2, 2, (_, _) => SKColors.Transparent));

        var payload = new ImagePreprocessor(options).Preprocess(image);

        Assert.Equal(0x10 / 255f, payload[0], Exact);
        Assert.Equal(0x20 / 255f, payload[4], Exact);
        Assert.Equal(0x30 / 255f, payload[8], Exact);
    }

    [Fact]
    public void Preprocess_ManyImagesInParallel_MatchesSequentialResults()
    {
        var inputs = new List<(string Key, byte[] Bytes)>();
        for (var i = 0; i < 24; i++)
        {
            var grid = TestImages.Noise(40 + (i * 7), 30 + (i * 5), 100 + i);
            var bytes = (i % 4) switch
            {
                0 => TestImages.Encode(grid, SKEncodedImageFormat.Jpeg),
                1 => TestImages.Encode(grid, SKEncodedImageFormat.Png),
                2 => TestImages.Encode(grid, SKEncodedImageFormat.Webp),
                _ => JpegMarkers.WithExifOrientation(TestImages.Encode(grid, SKEncodedImageFormat.Jpeg), (ushort)(1 + (i % 8))),
            };
            inputs.Add(($"img-{i}", bytes));
        }

        var preprocessor = new ImagePreprocessor(new ImageOptions { OutputSize = 32, ResizeSize = 36 });
        var sampler = new RandomResizedCropSampler();

        float[] Run(int i)
        {
            using var image = Decoder.Decode(inputs[i].Bytes, inputs[i].Key);
            var crop = sampler.Sample(image.Width, image.Height, (ulong)i);
            float[] centre = preprocessor.Preprocess(image);
            float[] cropped = preprocessor.Preprocess(image, crop.Box, crop.FlipHorizontal);
            return [.. centre, .. cropped];
        }

        var sequential = Enumerable.Range(0, inputs.Count).Select(Run).ToArray();
        var parallel = new float[inputs.Count][];
        Parallel.For(0, inputs.Count * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, j => parallel[j % inputs.Count] = Run(j % inputs.Count));

        for (var i = 0; i < inputs.Count; i++)
        {
            Assert.Equal(sequential[i], parallel[i]);
        }
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.ThrowsAny<System.ComponentModel.DataAnnotations.ValidationException>(
            () => new ImagePreprocessor(new ImageOptions { Channels = 1, Mean = [0.1f, 0.2f, 0.3f], Std = [1f] }));
    }
}
