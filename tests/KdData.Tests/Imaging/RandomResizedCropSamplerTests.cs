using KdData.Imaging;

namespace KdData.Tests.Imaging;

public sealed class RandomResizedCropSamplerTests
{
    [Fact]
    public void Sample_SameSeed_GivesSameDecision()
    {
        var a = new RandomResizedCropSampler();
        var b = new RandomResizedCropSampler();

        for (ulong seed = 0; seed < 200; seed++)
        {
            Assert.Equal(a.Sample(640, 480, seed), b.Sample(640, 480, seed));
        }
    }

    [Fact]
    public void Sample_ManySeeds_BoxesInsideImageWithinScaleAndRatio()
    {
        var sampler = new RandomResizedCropSampler(scaleMin: 0.2, scaleMax: 0.9, ratioMin: 0.5, ratioMax: 2.0);
        var distinct = new HashSet<CropBox>();
        var flips = 0;
        for (ulong seed = 0; seed < 2000; seed++)
        {
            var (box, flip) = sampler.Sample(500, 400, seed);
            distinct.Add(box);
            flips += flip ? 1 : 0;
            Assert.True(box.FitsWithin(500, 400), box.ToString());

            // Rounding w and h to integers moves area and ratio slightly, hence the small margins.
            var area = (double)box.Width * box.Height / (500 * 400);
            Assert.InRange(area, 0.2 * 0.97, 0.9 * 1.03);
            Assert.InRange((double)box.Width / box.Height, 0.5 * 0.95, 2.0 * 1.05);
        }

        Assert.True(distinct.Count > 1900, $"only {distinct.Count} distinct boxes");
        Assert.InRange(flips, 850, 1150); // p = 0.5
    }

    [Fact]
    public void Sample_ExtremeAspectImage_FallsBackToClampedCentreCrop()
    {
        // 1000x10 with ratio <= 4/3 and scale >= 0.5 can never fit (height 10 limits area to 10 * 13),
        // so every seed takes the fallback: full height, width = round(10 * 4/3) = 13, centered.
        var sampler = new RandomResizedCropSampler(scaleMin: 0.5, scaleMax: 1.0);

        var (box, _) = sampler.Sample(1000, 10, 42);

        Assert.Equal(new CropBox((1000 - 13) / 2, 0, 13, 10), box);
    }

    [Fact]
    public void Sample_FlipProbabilityZeroOrOne_IsHonoured()
    {
        Assert.False(new RandomResizedCropSampler(flipProbability: 0).Sample(100, 100, 7).FlipHorizontal);
        Assert.True(new RandomResizedCropSampler(flipProbability: 1).Sample(100, 100, 7).FlipHorizontal);
    }

    [Fact]
    public void DeriveSeed_DependsOnEveryInputAndIsRepeatable()
    {
        var seed = RandomResizedCropSampler.DeriveSeed(1, "images/cat.jpg", 0);

        Assert.Equal(seed, RandomResizedCropSampler.DeriveSeed(1, "images/cat.jpg", 0));
        Assert.NotEqual(seed, RandomResizedCropSampler.DeriveSeed(2, "images/cat.jpg", 0));
        Assert.NotEqual(seed, RandomResizedCropSampler.DeriveSeed(1, "images/dog.jpg", 0));
        Assert.NotEqual(seed, RandomResizedCropSampler.DeriveSeed(1, "images/cat.jpg", 1));
    }

    [Fact]
    public void Constructor_InvalidRanges_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCropSampler(scaleMin: 0.9, scaleMax: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCropSampler(ratioMin: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCropSampler(flipProbability: 1.5));
    }
}
