using KdData.Augmentation;

namespace KdData.Tests.Augmentation;

/// <summary>
/// Each RandAugment operation alone (N = 1, the seed chosen so that it draws that operation with that sign) against
/// values computed by hand on tiny images, so that a wrong amount, sign, axis or fill fails. Mean 0 and std 1 make
/// the payload the [0, 1] intensity itself, except where the normalisation is the point.
/// </summary>
public sealed class RandAugmentOperationTests
{
    private const float Tolerance = 1e-5f;
    private static readonly float[] Zero = [0f];
    private static readonly float[] One = [1f];

    /// <summary>Applies <paramref name="operation"/> at magnitude <paramref name="magnitude"/> with the sign <paramref name="sign"/> (+1 or -1).</summary>
    private static float[] ApplyOnly(string operation, int magnitude, int sign, float[] image, int channels, int height, int width,
        float[]? mean = null, float[]? std = null)
    {
        var augment = new RandAugment(1, magnitude, mean ?? Zero, std ?? One);
        var strength = sign * magnitude / 10.0;
        var seed = Enumerable.Range(0, 10_000).Select(s => (ulong)s)
            .First(s => augment.Draw(s) is [var draw] && draw.Operation == operation && Math.Abs(draw.Strength - strength) < 1e-12);
        return augment.Apply(image, channels, height, width, seed);
    }

    /// <summary>A 1-channel ramp I(x, y) = 0.05 + 0.06 x + 0.013 y: distinct per pixel, and bilinear sampling of it is exact inside the image.</summary>
    private static float Ramp(double x, double y) => (float)(0.05 + (0.06 * x) + (0.013 * y));

    private static float[] RampImage(int height, int width) =>
        [.. Enumerable.Range(0, height * width).Select(k => Ramp(k % width, k / width))];

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++)
        {
            Assert.True(Math.Abs(expected[k] - actual[k]) <= Tolerance, $"value {k}: expected {expected[k]}, got {actual[k]}");
        }
    }

    /// <summary>
    /// Checks a geometric operation on the ramp: output pixel p (relative to the centre c) samples the input at
    /// <paramref name="source"/>(p) + c. Where that point is inside the image the output is the ramp there; where it is
    /// more than a pixel outside, black. The one-pixel band between (a blend with the black outside) is not checked.
    /// </summary>
    private static void AssertSamples(float[] output, int height, int width, Func<double, double, (double X, double Y)> source)
    {
        var (cx, cy) = ((width - 1) / 2.0, (height - 1) / 2.0);
        var (inside, outside) = (0, 0);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (dx, dy) = source(x - cx, y - cy);
                var (sx, sy) = (dx + cx, dy + cy);
                var actual = output[(y * width) + x];
                if (sx >= 0 && sx <= width - 1 && sy >= 0 && sy <= height - 1)
                {
                    Assert.True(Math.Abs(Ramp(sx, sy) - actual) <= Tolerance, $"({x}, {y}) samples ({sx:F3}, {sy:F3}): expected {Ramp(sx, sy)}, got {actual}");
                    inside++;
                }
                else if (sx <= -1 || sx >= width || sy <= -1 || sy >= height)
                {
                    Assert.True(Math.Abs(actual) <= Tolerance, $"({x}, {y}) samples ({sx:F3}, {sy:F3}) outside the image: expected black, got {actual}");
                    outside++;
                }
            }
        }
        Assert.True(inside >= height * width / 3 && outside > 0, $"{inside} pixels checked inside, {outside} outside");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Apply_TranslateXAtMagnitudeTen_ShiftsByThreeOfTenPixelsAndFillsBlack(int sign)
    {
        // 30 % of 10 px = 3 px. Output x samples input x + 3 (sign +1: the picture moves left) or x - 3 (moves right).
        var image = RampImage(10, 10);

        var output = ApplyOnly("translate-x", 10, sign, image, 1, 10, 10);

        for (var y = 0; y < 10; y++)
        {
            for (var x = 0; x < 10; x++)
            {
                var from = x + (3 * sign);
                var expected = from is >= 0 and < 10 ? image[(y * 10) + from] : 0f;
                Assert.True(Math.Abs(expected - output[(y * 10) + x]) <= Tolerance, $"({x}, {y}): expected {expected}, got {output[(y * 10) + x]}");
            }
        }
        // Row 0 spelled out for sign +1: I(3..9, 0) then three black pixels.
        if (sign > 0)
        {
            AssertClose([0.23f, 0.29f, 0.35f, 0.41f, 0.47f, 0.53f, 0.59f, 0f, 0f, 0f], output[..10]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Apply_TranslateYAtMagnitudeFive_ShiftsByThreeOfTwentyRows(int sign)
    {
        // Magnitude 5: 15 % of 20 rows = 3 rows; output row y samples input row y + 3 sign. Columns stay.
        const int height = 20;
        const int width = 4;
        var image = RampImage(height, width);

        var output = ApplyOnly("translate-y", 5, sign, image, 1, height, width);

        AssertSamples(output, height, width, (px, py) => (px, py + (3 * sign)));
        Assert.Equal(0f, output[sign > 0 ? ((height - 1) * width) : 0], 5); // the row the picture left is black
    }

    [Fact]
    public void Apply_TranslateWithFashionMnistNormalisation_FillsWithBlackNotWithPayloadZero()
    {
        float[] mean = [0.2860f];
        float[] std = [0.3530f];
        var intensities = RampImage(10, 10);
        var payload = intensities.Select(v => (v - mean[0]) / std[0]).ToArray();

        var output = ApplyOnly("translate-x", 10, 1, payload, 1, 10, 10, mean, std);

        // Column 0 holds intensity I(3, 0) = 0.23 -> (0.23 - 0.286) / 0.353; column 9 black: (0 - 0.286) / 0.353.
        Assert.Equal((0.23f - 0.2860f) / 0.3530f, output[0], 4);
        Assert.Equal(-0.2860f / 0.3530f, output[9], 5);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Apply_RotateAtMagnitudeTen_SamplesAtThirtyDegreesAroundTheCentre(int sign)
    {
        // Output p samples the input at R(30 deg * sign) p around the centre (4, 4) of a 9x9 image.
        const int side = 9;
        var angle = sign * Math.PI / 6;

        var output = ApplyOnly("rotate", 10, sign, RampImage(side, side), 1, side, side);

        AssertSamples(output, side, side, (px, py) => ((Math.Cos(angle) * px) - (Math.Sin(angle) * py), (Math.Sin(angle) * px) + (Math.Cos(angle) * py)));
        // By hand: pixel (6, 4) is p = (2, 0) and samples (4 + 2 cos 30, 4 + 2 sin 30 * sign) = (5.732, 5 or 3):
        // 0.05 + 0.06 * 5.732 + 0.013 * (5 or 3) = 0.4589 (sign +1) or 0.4329 (sign -1).
        Assert.Equal(sign > 0 ? 0.45892f : 0.43292f, output[(4 * side) + 6], 4);
        Assert.Equal(Ramp(4, 4), output[(4 * side) + 4], 5); // the centre stays
    }

    [Theory]
    // Output (x, y) samples the input at (x + 0.3 sign (y - 4), y) for shear-x, at (x, y + 0.3 sign (x - 4)) for shear-y.
    // By hand: shear-x pixel (4, 8) samples (4 + 1.2 sign, 8): 0.05 + 0.06 * (5.2 or 2.8) + 0.013 * 8 = 0.466 or 0.322;
    // shear-y pixel (8, 4) samples (8, 4 + 1.2 sign): 0.05 + 0.06 * 8 + 0.013 * (5.2 or 2.8) = 0.5976 or 0.5664.
    [InlineData("shear-x", 1, 4, 8, 0.466f)]
    [InlineData("shear-x", -1, 4, 8, 0.322f)]
    [InlineData("shear-y", 1, 8, 4, 0.5976f)]
    [InlineData("shear-y", -1, 8, 4, 0.5664f)]
    public void Apply_ShearAtMagnitudeTen_ShiftsByPointThreeTimesTheDistanceFromTheCentre(string operation, int sign, int x, int y, float expected)
    {
        const int side = 9;
        var k = 0.3 * sign;

        var output = ApplyOnly(operation, 10, sign, RampImage(side, side), 1, side, side);

        AssertSamples(output, side, side, operation == "shear-x" ? (px, py) => (px + (k * py), py) : (px, py) => (px, py + (k * px)));
        Assert.Equal(expected, output[(y * side) + x], 4);
    }

    // Six intensities as a 1x2x3 image.
    private static readonly float[] Levels = [0f, 0.1f, 0.25f, 0.5f, 0.6f, 1f];

    [Theory]
    // Factor 1 + 0.9 strength: M = 10, +1 -> 1.9 (0.6 and 1.0 clip at 1); M = 5, -1 -> 0.55.
    [InlineData(10, 1, new[] { 0f, 0.19f, 0.475f, 0.95f, 1f, 1f })]
    [InlineData(5, -1, new[] { 0f, 0.055f, 0.1375f, 0.275f, 0.33f, 0.55f })]
    public void Apply_Brightness_ScalesIntensitiesByOnePlusPointNineStrength(int magnitude, int sign, float[] expected)
    {
        AssertClose(expected, ApplyOnly("brightness", magnitude, sign, Levels, 1, 2, 3));
    }

    [Theory]
    // Per channel around its own mean: channel 0 (0.2, 0.5, 0.8) has mean 0.5, channel 1 (0.1, 0.2, 0.3) mean 0.2.
    // M = 10, -1 -> factor 0.1; M = 5, +1 -> factor 1.45: mean + factor (v - mean).
    [InlineData(10, -1, new[] { 0.47f, 0.5f, 0.53f, 0.19f, 0.2f, 0.21f })]
    [InlineData(5, 1, new[] { 0.065f, 0.5f, 0.935f, 0.055f, 0.2f, 0.345f })]
    public void Apply_Contrast_BlendsEachChannelWithItsOwnMean(int magnitude, int sign, float[] expected)
    {
        float[] image = [0.2f, 0.5f, 0.8f, 0.1f, 0.2f, 0.3f];

        AssertClose(expected, ApplyOnly("contrast", magnitude, sign, image, 2, 1, 3));
    }

    [Theory]
    [InlineData(10, 1, 1.9f)]
    [InlineData(10, -1, 0.1f)]
    public void Apply_Sharpness_BlendsTheInteriorWithPilsSmoothKernelAndKeepsTheBorder(int magnitude, int sign, float factor)
    {
        // 3x3: 0.8 in the corner, 0.5 in the centre, 0.2 elsewhere. The smoothed centre is (5 * 0.5 + 7 * 0.2 + 0.8) / 13
        // = 4.7 / 13; the output centre is smooth + factor * (0.5 - smooth): 0.62462 (1.9) or 0.37538 (0.1).
        float[] image = [0.8f, 0.2f, 0.2f, 0.2f, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f];
        var smooth = 4.7f / 13f;
        var expected = (float[])image.Clone();
        expected[4] = smooth + (factor * (0.5f - smooth));

        AssertClose(expected, ApplyOnly("sharpness", magnitude, sign, image, 1, 3, 3));
        Assert.Equal(sign > 0 ? 0.62462f : 0.37538f, expected[4], 4);
    }

    private static readonly int[] Bytes = [0, 15, 16, 17, 127, 128, 200, 255];

    [Theory]
    // Bits 8 - round(4 |strength|): M = 10 -> 4 bits (mask 0xF0), either sign; M = 5 -> 6 bits (0xFC); M = 3 -> 7 bits (0xFE).
    [InlineData(10, -1, new[] { 0, 0, 16, 16, 112, 128, 192, 240 })]
    [InlineData(10, 1, new[] { 0, 0, 16, 16, 112, 128, 192, 240 })]
    [InlineData(5, 1, new[] { 0, 12, 16, 16, 124, 128, 200, 252 })]
    [InlineData(3, -1, new[] { 0, 14, 16, 16, 126, 128, 200, 254 })]
    public void Apply_Posterize_KeepsTheTopBitsOfEachByte(int magnitude, int sign, int[] expectedBytes)
    {
        var image = Bytes.Select(b => b / 255f).ToArray();

        var output = ApplyOnly("posterize", magnitude, sign, image, 1, 2, 4);

        Assert.Equal(expectedBytes, output.Select(v => (int)MathF.Round(v * 255f)));
        AssertClose([.. expectedBytes.Select(b => b / 255f)], output);
    }

    [Fact]
    public void Apply_AutoContrast_StretchesEachChannelToZeroOneAndLeavesAFlatOneAlone()
    {
        // Channel 0 spans 0.2..0.6, channel 1 0.3..0.5, channel 2 is flat.
        float[] image = [0.2f, 0.4f, 0.6f, 0.3f, 0.35f, 0.5f, 0.4f, 0.4f, 0.4f];

        var output = ApplyOnly("auto-contrast", 7, 1, image, 3, 1, 3);

        AssertClose([0f, 0.5f, 1f, 0f, 0.25f, 1f, 0.4f, 0.4f, 0.4f], output);
    }

    [Fact]
    public void Apply_Identity_ReturnsTheImage()
    {
        Assert.Equal(Levels, ApplyOnly("identity", 10, 1, Levels, 1, 2, 3));
    }
}
