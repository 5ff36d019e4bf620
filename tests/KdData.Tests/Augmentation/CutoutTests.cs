using KdData.Augmentation;

namespace KdData.Tests.Augmentation;

public sealed class CutoutTests
{
    [Fact]
    public void Apply_HalfSide_BlacksOutExactlyTheDrawnSquareAndNothingElse()
    {
        var cutout = new Cutout(0.5, [-1f]);
        var image = Enumerable.Range(0, 2 * 28 * 28).Select(i => i + 0.5f).ToArray(); // 2 channels, no value is -1
        for (ulong seed = 0; seed < 20; seed++)
        {
            var (x0, y0, x1, y1) = cutout.Draw(28, 28, seed);
            var output = cutout.Apply(image, 2, 28, 28, seed);

            Assert.InRange(x1 - x0, 7, 14); // 14 px, clipped to no less than half at a border
            Assert.InRange(y1 - y0, 7, 14);
            for (var i = 0; i < image.Length; i++)
            {
                var (x, y) = (i % 28, i / 28 % 28);
                var inside = x >= x0 && x < x1 && y >= y0 && y < y1;
                Assert.Equal(inside ? -1f : image[i], output[i]);
            }
        }
    }

    [Fact]
    public void Apply_SameSeed_SameSquareOtherSeedsDiffer()
    {
        var cutout = new Cutout(0.25, [0f]);
        Assert.Equal(cutout.Draw(32, 32, 7), cutout.Draw(32, 32, 7));
        Assert.True(Enumerable.Range(0, 10).Select(s => cutout.Draw(32, 32, (ulong)s)).Distinct().Count() > 5);
    }

    [Fact]
    public void Apply_ZeroFraction_ChangesNothing()
    {
        var image = new float[] { 1, 2, 3, 4 };
        Assert.Equal(image, new Cutout(0, [9f]).Apply(image, 1, 2, 2, 3));
    }
}
