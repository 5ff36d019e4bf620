using KdData.Evaluation;

namespace KdData.Tests.Evaluation;

public sealed class ClassificationMetricsTests
{
    /// <summary>Two-class logits whose softmax is exactly (c, 1 - c): log-probabilities are valid logits.</summary>
    private static float[] Confidences(params double[] top) =>
        [.. top.SelectMany(c => new[] { (float)Math.Log(c), (float)Math.Log(1 - c) })];

    [Fact]
    public void Compute_HandWorkedLogits_AccuracyConfusionAndPerClass()
    {
        // 4 classes, 4 samples: rows 0, 1, 3 right; row 2 (true 2) predicted 0; class 3 has no sample.
        float[] logits =
        [
            2, 1, 0, 0,
            0, 3, 1, 0,
            1, 0, 0.5f, 0,
            0, 0, 5, 0,
        ];
        long[] labels = [0, 1, 2, 2];

        var metrics = ClassificationMetrics.Compute(logits, labels, numClasses: 4);

        Assert.Equal(4, metrics.Count);
        Assert.Equal(0.75, metrics.Accuracy, 12);
        Assert.Equal([1, 1, 2, 0], metrics.ClassCounts);
        Assert.Equal([1.0, 1.0, 0.5, null], metrics.PerClassAccuracy);
        Assert.Equal([1, 0, 0, 0], metrics.ConfusionMatrix[0]);
        Assert.Equal([0, 1, 0, 0], metrics.ConfusionMatrix[1]);
        Assert.Equal([1, 0, 1, 0], metrics.ConfusionMatrix[2]);
        Assert.Equal([0, 0, 0, 0], metrics.ConfusionMatrix[3]);
    }

    [Fact]
    public void Compute_HandWorkedConfidences_EceNllAndBinsMatchTheDefinition()
    {
        // Confidences and correctness, 15 bins of width 1/15:
        //   0.90 right, 0.90 wrong   -> bin 13 (0.8667, 0.9333]: acc 0.5, conf 0.90, gap 0.40, weight 2/5
        //   0.70 right, 0.72 right   -> bin 10 (0.6667, 0.7333]: acc 1.0, conf 0.71, gap 0.29, weight 2/5
        //   0.55 wrong               -> bin  8 (0.5333, 0.6000]: acc 0.0, conf 0.55, gap 0.55, weight 1/5
        // ECE = 0.4 * 0.40 + 0.4 * 0.29 + 0.2 * 0.55 = 0.386.
        // NLL = -(ln 0.9 + ln 0.1 + ln 0.7 + ln 0.72 + ln 0.45) / 5 (a wrong sample's label has 1 - c).
        var logits = Confidences(0.9, 0.9, 0.7, 0.72, 0.55);
        long[] labels = [0, 1, 0, 0, 1];

        var metrics = ClassificationMetrics.Compute(logits, labels, numClasses: 2);

        Assert.Equal(0.386, metrics.ExpectedCalibrationError, 6);
        var expectedNll = -(Math.Log(0.9) + Math.Log(0.1) + Math.Log(0.7) + Math.Log(0.72) + Math.Log(0.45)) / 5;
        Assert.Equal(expectedNll, metrics.NegativeLogLikelihood, 6);
        Assert.Equal((0.9 + 0.9 + 0.7 + 0.72 + 0.55) / 5, metrics.MeanConfidence, 6);
        Assert.Equal(15, metrics.ReliabilityBins.Count);
        var filled = metrics.ReliabilityBins.Select((b, i) => (b, i)).Where(x => x.b.Count > 0).ToList();
        Assert.Equal([8, 10, 13], filled.Select(x => x.i));
        Assert.Equal([1, 2, 2], filled.Select(x => x.b.Count));
        Assert.Equal(0.71, metrics.ReliabilityBins[10].MeanConfidence!.Value, 6);
        Assert.Equal(0.5, metrics.ReliabilityBins[13].Accuracy!.Value, 12);
        Assert.Equal(10.0 / 15, metrics.ReliabilityBins[10].Lower, 12);
        Assert.Null(metrics.ReliabilityBins[0].Accuracy);
    }

    [Fact]
    public void Compute_PerfectlyCalibratedBins_EceIsZero()
    {
        // Four samples at confidence 0.75 (bin 11), three right: accuracy equals confidence.
        var metrics = ClassificationMetrics.Compute(Confidences(0.75, 0.75, 0.75, 0.75), [0, 0, 0, 1], numClasses: 2);

        Assert.Equal(0, metrics.ExpectedCalibrationError, 6);
    }

    [Fact]
    public void Compute_TiedLogits_PredictsTheLowerClass()
    {
        var metrics = ClassificationMetrics.Compute([1, 1, 0], [0], numClasses: 3);

        Assert.Equal(1.0, metrics.Accuracy);
        Assert.Equal(Math.E / ((2 * Math.E) + 1), metrics.MeanConfidence, 6); // softmax of (1, 1, 0)
    }

    [Theory]
    [InlineData(0.0, 0)]
    [InlineData(1.0 / 15, 0)]
    [InlineData(0.0667, 1)]
    [InlineData(0.5, 7)]
    [InlineData(1.0, 14)]
    public void BinOf_EdgesBelongToTheLowerBin(double confidence, int bin)
    {
        Assert.Equal(bin, ClassificationMetrics.BinOf(confidence, 15));
    }

    [Fact]
    public void Compute_LabelOutOfRange_Throws()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([1, 0], [2], numClasses: 2));
    }

    [Fact]
    public void Compute_LogitsOfTheWrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.Compute([1, 0, 0], [0, 1], numClasses: 2));
    }
}
