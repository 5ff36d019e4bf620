using KdData.Datasets;

namespace KdData.Tests.Datasets;

public sealed class StratifiedSplitTests
{
    private static byte[] Labels()
    {
        // Uneven classes: class c has 50 + 10c items, interleaved.
        var labels = new List<byte>();
        for (var c = 0; c < 5; c++)
        {
            labels.AddRange(Enumerable.Repeat((byte)c, 50 + (10 * c)));
        }

        return [.. labels.OrderBy(l => Seeds.Mix(99, l) ^ (ulong)labels.Count)];
    }

    [Fact]
    public void SelectLabeled_TenPercent_TakesTenPercentOfEachClass()
    {
        var labels = Labels();
        var selected = StratifiedSplit.SelectLabeled(labels, 0.1, seed: 7);

        for (byte c = 0; c < 5; c++)
        {
            var inClass = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            var expected = (int)Math.Round(inClass.Length * 0.1, MidpointRounding.AwayFromZero);
            Assert.Equal(expected, inClass.Count(i => selected[i]));
        }
    }

    [Fact]
    public void SelectLabeled_SameSeed_IsDeterministic_OtherSeed_Differs()
    {
        var labels = Labels();
        var a = StratifiedSplit.SelectLabeled(labels, 0.2, seed: 1);
        var b = StratifiedSplit.SelectLabeled(labels, 0.2, seed: 1);
        var c = StratifiedSplit.SelectLabeled(labels, 0.2, seed: 2);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void SelectLabeled_LabeledAndPool_AreDisjointAndCoverAll()
    {
        var labels = Labels();
        var selected = StratifiedSplit.SelectLabeled(labels, 0.3, seed: 5);
        var labeled = Enumerable.Range(0, labels.Length).Where(i => selected[i]).ToHashSet();
        var pool = Enumerable.Range(0, labels.Length).Where(i => !selected[i]).ToHashSet();

        Assert.Empty(labeled.Intersect(pool));
        Assert.Equal(labels.Length, labeled.Count + pool.Count);
        Assert.InRange(labeled.Count, 1, labels.Length - 1);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void SelectLabeled_BadFraction_Throws(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedSplit.SelectLabeled(new byte[] { 1, 2 }, fraction, 0));
    }
}
