using KdData.Augmentation;

namespace KdData.Tests.Augmentation;

public sealed class PaddedCropAugmentationTests
{
    private static float[] Ramp(int channels, int size) =>
        Enumerable.Range(0, channels * size * size).Select(i => (float)i).ToArray();

    [Fact]
    public void Apply_DrawnShiftAndFlip_MatchesHandShiftedImage()
    {
        const int Size = 6;
        var augmentation = new PaddedCropAugmentation(padding: 2, flip: true, fill: [-9f, -7f]);
        var input = Ramp(2, Size);

        for (ulong seed = 0; seed < 40; seed++)
        {
            var (dx, dy, flip) = augmentation.Draw(seed);
            var output = augmentation.Apply(input, 2, Size, Size, seed);
            Assert.InRange(dx, -2, 2);
            Assert.InRange(dy, -2, 2);
            for (var c = 0; c < 2; c++)
            {
                for (var y = 0; y < Size; y++)
                {
                    for (var x = 0; x < Size; x++)
                    {
                        var sx = (flip ? Size - 1 - x : x) + dx;
                        var sy = y + dy;
                        var expected = sx is >= 0 and < Size && sy is >= 0 and < Size ? input[(c * Size * Size) + (sy * Size) + sx] : (c == 0 ? -9f : -7f);
                        Assert.Equal(expected, output[(c * Size * Size) + (y * Size) + x]);
                    }
                }
            }
        }
    }

    [Fact]
    public void Draw_ManySeeds_CoversShiftsAndBothFlips()
    {
        var augmentation = new PaddedCropAugmentation(padding: 1, flip: true, fill: [0f]);
        var draws = Enumerable.Range(0, 200).Select(s => augmentation.Draw((ulong)s)).ToList();

        Assert.Equal(3, draws.Select(d => d.Dx).Distinct().Count());
        Assert.Equal(3, draws.Select(d => d.Dy).Distinct().Count());
        Assert.Contains(draws, d => d.Flip);
        Assert.Contains(draws, d => !d.Flip);
        Assert.Equal(augmentation.Draw(17), augmentation.Draw(17));
    }

    [Fact]
    public void Apply_Inactive_ReturnsInputUnchanged()
    {
        var augmentation = new PaddedCropAugmentation(padding: 0, flip: false, fill: [0f]);
        var input = Ramp(1, 4);

        Assert.False(augmentation.IsActive);
        Assert.Same(input, augmentation.Apply(input, 1, 4, 4, 5));
    }
}
