using KdData.SoftTargets;

namespace KdData.Tests.SoftTargets;

public sealed class SoftTargetTests
{
    [Fact]
    public void FromLogits_LogsOfOneTwoThree_MatchesHandComputedSoftmax()
    {
        float[] logits = [0f, (float)Math.Log(2), (float)Math.Log(3)];

        var target = SoftTarget.FromLogits(logits, topK: 3);

        // exp(logits) = 1, 2, 3, so the probabilities are 1/6, 2/6, 3/6 and log-sum-exp is ln 6.
        var expectedEntropy = -((1.0 / 6 * Math.Log(1.0 / 6)) + (2.0 / 6 * Math.Log(2.0 / 6)) + (3.0 / 6 * Math.Log(3.0 / 6)));
        Assert.Equal(2, target.Predicted);
        Assert.Equal(0.5, target.Confidence, 6);
        Assert.Equal(expectedEntropy, target.Entropy, 6);
        Assert.Equal(Math.Log(6), target.LogSumExp, 6);
        Assert.Equal([2, 1, 0], target.TopKClasses);
        Assert.Equal([logits[2], logits[1], logits[0]], target.TopKLogits);

        var probabilities = target.ProbabilitiesAt(1.0, 3);
        Assert.Equal(1.0 / 6, probabilities[0], 6);
        Assert.Equal(2.0 / 6, probabilities[1], 6);
        Assert.Equal(3.0 / 6, probabilities[2], 6);
    }

    [Theory]
    [InlineData(1000f)]
    [InlineData(-1000f)]
    [InlineData(80f)]
    public void FromLogits_LargeCommonOffset_StaysFiniteAndShiftInvariant(float offset)
    {
        // exp(1000) overflows even in double; subtracting the max first keeps every term in [0, 1].
        float[] logits = [offset, offset + 1f, offset + 2f];
        var expectedSum = Math.Exp(-2) + Math.Exp(-1) + 1;

        var target = SoftTarget.FromLogits(logits, topK: 3);

        Assert.Equal(2, target.Predicted);
        Assert.Equal(1 / expectedSum, target.Confidence, 5);
        Assert.Equal(offset + 2 + Math.Log(expectedSum), target.LogSumExp, 3);
        Assert.True(float.IsFinite(target.Entropy) && target.Entropy > 0);
    }

    [Fact]
    public void FromLogits_TopKSmallerThanClasses_KeepsLargestDescendingWithLowerIndexFirstOnTies()
    {
        float[] logits = [0.5f, 3f, -1f, 3f, 2f];

        var target = SoftTarget.FromLogits(logits, topK: 3);

        Assert.Equal(1, target.Predicted);
        Assert.Equal([1, 3, 4], target.TopKClasses);
        Assert.Equal([3f, 3f, 2f], target.TopKLogits);
        var sum = Math.Exp(0.5) + Math.Exp(3) + Math.Exp(-1) + Math.Exp(3) + Math.Exp(2);
        Assert.Equal(Math.Log(sum), target.LogSumExp, 5);
        Assert.Equal(Math.Exp(3) / sum, target.Confidence, 6);
    }

    [Fact]
    public void FromLogits_TopKLargerThanClasses_IsCappedAtClassCount()
    {
        var target = SoftTarget.FromLogits([1f, 2f], topK: 100);

        Assert.Equal(2, target.K);
        Assert.Equal([1, 0], target.TopKClasses);
    }

    [Fact]
    public void FromLogits_EmptyOrNonFinite_Throws()
    {
        Assert.Throws<ArgumentException>(() => SoftTarget.FromLogits([], topK: 1));
        var nan = Assert.Throws<ArgumentException>(() => SoftTarget.FromLogits([1f, float.NaN], topK: 1));
        Assert.Contains("Logit 1", nan.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SoftTarget.FromLogits([1f, float.PositiveInfinity], topK: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SoftTarget.FromLogits([1f], topK: 0));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    [InlineData(20.0)]
    public void ProbabilitiesAt_KEqualsClassCount_MatchesSoftmaxOfScaledLogits(double temperature)
    {
        var random = new Random(7);
        var logits = Enumerable.Range(0, 10).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
        var target = SoftTarget.FromLogits(logits, topK: 10);

        var actual = target.ProbabilitiesAt(temperature, 10);

        var scaled = logits.Select(z => Math.Exp(z / temperature)).ToArray();
        var total = scaled.Sum();
        for (var c = 0; c < 10; c++)
        {
            Assert.Equal(scaled[c] / total, actual[c], 6);
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(5.0)]
    public void ProbabilitiesAt_KBelowClassCount_SumsToOneAndSpreadsTailMassEvenly(double temperature)
    {
        const int classes = 20;
        const int k = 5;
        var random = new Random(11);
        var logits = Enumerable.Range(0, classes).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var target = SoftTarget.FromLogits(logits, topK: k);

        var actual = target.ProbabilitiesAt(temperature, classes);

        Assert.Equal(1.0, actual.Sum(p => (double)p), 5);
        var tail = Enumerable.Range(0, classes).Where(c => !target.TopKClasses.Contains(c)).Select(c => actual[c]).ToArray();
        Assert.Equal(classes - k, tail.Length);
        Assert.All(tail, p => Assert.Equal(tail[0], p, 6));
        Assert.All(target.TopKClasses, c => Assert.True(actual[c] >= tail[0], $"stored class {c} fell below the tail"));

        var exact = logits.Select(z => Math.Exp(z)).ToArray();
        var exactTotal = exact.Sum();
        if (temperature == 1.0)
        {
            // At T = 1 the stored classes are exact and the tail holds exactly the missing mass.
            foreach (var c in target.TopKClasses)
            {
                Assert.Equal(exact[c] / exactTotal, actual[c], 5);
            }

            var exactTail = Enumerable.Range(0, classes).Where(c => !target.TopKClasses.Contains(c)).Sum(c => exact[c]) / exactTotal;
            Assert.Equal(exactTail, tail.Sum(p => (double)p), 5);
        }
        else
        {
            // Higher temperature flattens: the top class loses mass relative to T = 1.
            Assert.True(actual[target.Predicted] < target.ProbabilitiesAt(1.0, classes)[target.Predicted]);
        }
    }

    [Fact]
    public void ProbabilitiesAt_InvalidTemperatureOrTooFewClasses_Throws()
    {
        var target = SoftTarget.FromLogits([1f, 2f, 3f], topK: 3);

        Assert.Throws<ArgumentOutOfRangeException>(() => target.ProbabilitiesAt(0.0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => target.ProbabilitiesAt(double.NaN, 3));
        Assert.Throws<ArgumentException>(() => target.ProbabilitiesAt(1.0, 2));
    }

    [Fact]
    public void Constructor_UnsortedOrMismatchedLists_Throws()
    {
        Assert.Throws<ArgumentException>(() => new SoftTarget(0, 0.5f, 0.1f, [0, 1], [1f, 2f], 3f));
        Assert.Throws<ArgumentException>(() => new SoftTarget(0, 0.5f, 0.1f, [0, 1], [2f], 3f));
        Assert.Throws<ArgumentException>(() => new SoftTarget(0, 0.5f, 0.1f, [1, 1], [2f, 1f], 3f));
        Assert.Throws<ArgumentException>(() => new SoftTarget(0, 0.5f, 0.1f, [], [], 3f));
    }
}
