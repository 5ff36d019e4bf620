using KdData.Evaluation;

namespace KdData.Tests.Evaluation;

public sealed class PseudoLabelAccuracyTests
{
    [Fact]
    public void Compute_PredictionsAgainstTruth_CountsAccuracyCoverageAndPrecision()
    {
        var truth = new Dictionary<string, int>
        {
            ["unlabeled/0.png"] = 0,
            ["unlabeled/1.png"] = 1,
            ["unlabeled/2.png"] = 1,
            ["unlabeled/3.png"] = 2,
        };
        (string, int)[] predictions =
        [
            ("unlabeled/0.png", 0), // right
            ("unlabeled/1.png", 0), // wrong
            ("unlabeled/2.png", 1), // right
            ("unlabeled/2.png", 1), // a second view of the same image: right again
            ("elsewhere/9.png", 2), // no true label
        ];

        var result = PseudoLabelAccuracy.Compute(predictions, truth, numClasses: 3);

        Assert.Equal(5, result.Predictions);
        Assert.Equal(4, result.Matched);
        Assert.Equal(1, result.Unmatched);
        Assert.Equal(3, result.Correct);
        Assert.Equal(0.75, result.Accuracy);
        Assert.Equal(0.75, result.Coverage); // 3 of 4 pool images have a pseudo-label
        Assert.Equal([2, 2, 0], result.PerClassPredictions);
        Assert.Equal([0.5, 1.0, null], result.PerClassPrecision);
    }

    [Fact]
    public void Compute_NothingMatches_AccuracyIsNull()
    {
        var result = PseudoLabelAccuracy.Compute([("a", 0)], new Dictionary<string, int> { ["b"] = 0 }, numClasses: 1);

        Assert.Null(result.Accuracy);
        Assert.Equal(0, result.Coverage);
    }

    [Fact]
    public void Compute_ClassOutOfRange_Throws()
    {
        Assert.Throws<ArgumentException>(() => PseudoLabelAccuracy.Compute([("a", 3)], new Dictionary<string, int>(), numClasses: 3));
    }
}
