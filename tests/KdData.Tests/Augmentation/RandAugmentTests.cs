using KdData.Augmentation;

namespace KdData.Tests.Augmentation;

public sealed class RandAugmentTests
{
    private const int Side = 28;
    private static readonly float[] Mean = [0.2860f];
    private static readonly float[] Std = [0.3530f];

    // A bright square on black, normalised like Fashion-MNIST.
    private static float[] Image()
    {
        var chw = new float[Side * Side];
        for (var y = 0; y < Side; y++)
        {
            for (var x = 0; x < Side; x++)
            {
                var v = x is >= 8 and < 20 && y is >= 6 and < 22 ? 0.4f + (x / 50f) : 0f;
                chw[(y * Side) + x] = (v - Mean[0]) / Std[0];
            }
        }
        return chw;
    }

    [Fact]
    public void Apply_ManySeeds_KeepsShapeAndTheNormalisedRangeOfRealPixels()
    {
        var augment = new RandAugment(3, 10, Mean, Std);
        var image = Image();
        var low = -Mean[0] / Std[0];
        var high = (1 - Mean[0]) / Std[0];
        var changed = 0;

        for (var seed = 0UL; seed < 60; seed++)
        {
            var output = augment.Apply(image, 1, Side, Side, seed);

            Assert.Equal(image.Length, output.Length);
            Assert.All(output, v => Assert.InRange(v, low - 1e-5f, high + 1e-5f));
            changed += output.SequenceEqual(image) ? 0 : 1;
        }
        Assert.True(changed > 40, $"only {changed} of 60 draws changed the image");
    }

    [Fact]
    public void Apply_SameSeed_SameOutput()
    {
        var augment = new RandAugment(2, 9, Mean, Std);

        Assert.Equal(augment.Apply(Image(), 1, Side, Side, 42), augment.Apply(Image(), 1, Side, Side, 42));
        Assert.NotEqual(augment.Apply(Image(), 1, Side, Side, 42), augment.Apply(Image(), 1, Side, Side, 43));
    }

    [Fact]
    public void Draw_ManySeeds_UsesOnlyTheLabelPreservingListAtTheGivenMagnitude()
    {
        var augment = new RandAugment(2, 6, Mean, Std);

        var draws = Enumerable.Range(0, 300).SelectMany(seed => augment.Draw((ulong)seed)).ToList();

        Assert.All(draws, d => Assert.Contains(d.Operation, RandAugment.Operations));
        Assert.All(draws, d => Assert.Equal(0.6, Math.Abs(d.Strength), 12));
        Assert.Equal(RandAugment.Operations.Count, draws.Select(d => d.Operation).Distinct().Count());
        Assert.DoesNotContain("invert", RandAugment.Operations);
        Assert.DoesNotContain("solarize", RandAugment.Operations);
    }

    [Fact]
    public void Apply_MagnitudeZero_GeometryAndColourAreIdentity()
    {
        // At M = 0 every op is the identity except auto-contrast and 8-bit posterize, which change at most rounding.
        var augment = new RandAugment(4, 0, Mean, Std);
        var image = Image();

        for (var seed = 0UL; seed < 20; seed++)
        {
            var output = augment.Apply(image, 1, Side, Side, seed);
            var maxError = image.Zip(output, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxError < 0.05f || augment.Draw(seed).Any(d => d.Operation == "auto-contrast"), $"seed {seed}: {maxError}");
        }
    }
}
