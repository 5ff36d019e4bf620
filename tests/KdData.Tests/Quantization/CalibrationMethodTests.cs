using KdData.Quantization;

namespace KdData.Tests.Quantization;

public sealed class CalibrationMethodTests
{
    [Fact]
    public void MinMaxObserver_SeveralBatches_SmallestAndLargestValue()
    {
        var observer = new MinMaxObserver();
        observer.Observe([0.5f, -1.25f, 3f]);
        observer.Observe([float.NaN, 7.5f, 0f]);

        Assert.Equal(new ActivationRange(-1.25f, 7.5f), observer.Range);
        Assert.Equal(5, observer.Count);
    }

    [Fact]
    public void ActivationHistogram_Values_CountedInEqualWidthBins()
    {
        // [0, 4) in 4 bins of width 1; 4.0 (= hi) goes to the last bin.
        var histogram = new ActivationHistogram(new ActivationRange(0, 4), bins: 4);
        histogram.Add([0f, 0.99f, 1f, 2.5f, 3.2f, 4f]);

        Assert.Equal([2L, 1, 1, 2], histogram.Counts.ToArray());
        Assert.Equal(6, histogram.Total);
    }

    [Fact]
    public void PercentileCalibration_OneOutlierIn100_ClippedAt99Percent()
    {
        // 99 values spread over [0, 1) and one at 100, histogram of 100 bins of width 1 over [0, 100]: 99 % of the
        // values (99 of 100) lie in bin 0, so the upper end is bin 0's upper edge, 1; the lower end stays 0.
        var values = Enumerable.Range(0, 99).Select(i => i / 100f).Append(100f).ToArray();
        var histogram = new ActivationHistogram(ActivationRange.Of(values), bins: 100);
        histogram.Add(values);

        var range = PercentileCalibration.Range(histogram, percentile: 99);

        Assert.Equal(0f, range.Min);
        Assert.Equal(1f, range.Max, 5);
        // At 100 % nothing is clipped: min-max.
        Assert.Equal(new ActivationRange(0, 100), PercentileCalibration.Range(histogram, percentile: 100));
    }

    [Fact]
    public void EntropyCalibration_HandComputedHistogram_ThreeBinsMinimiseKl()
    {
        // Counts [4, 2, 1, 1] over [0, 4), L = 2 levels (worked by hand):
        //   i = 2: P = [4, 4], Q = [4, 2]            -> KL = 0.5 ln(0.5/0.6667) + 0.5 ln(0.5/0.3333) = 0.05889
        //   i = 3: P = [4, 2, 2], Q = [4, 1.5, 1.5]  -> KL = 0.5 ln(0.5/0.5714) + 2 x 0.25 ln(0.25/0.2143) = 0.01031
        //   i = 4: P = [4, 2, 1, 1], Q = [3, 3, 1, 1] -> KL = 0.5 ln(0.5/0.375) + 0.25 ln(0.25/0.375) = 0.04247
        // so the threshold is the upper edge of bin 2: 3.
        var histogram = new ActivationHistogram(new ActivationRange(0, 4), bins: 4);
        histogram.SetCounts([4, 2, 1, 1]);
        long[] counts = [4, 2, 1, 1];
        var p = new double[4];
        var q = new double[4];

        Assert.Equal(0.05889, EntropyCalibration.Divergence(counts, 2, 2, p, q), 4);
        Assert.Equal(0.01031, EntropyCalibration.Divergence(counts, 3, 2, p, q), 4);
        Assert.Equal(0.04247, EntropyCalibration.Divergence(counts, 4, 2, p, q), 4);
        Assert.Equal(3f, EntropyCalibration.Threshold(histogram, levels: 2));
    }

    [Fact]
    public void EntropyCalibration_EmptyBinUnderQuantizedMass_Infinite()
    {
        // Counts [4, 4, 0, 1], i = 3: P's last bin holds the clipped 1 but Q's is empty -> infinite.
        long[] counts = [4, 4, 0, 1];
        Assert.True(double.IsPositiveInfinity(EntropyCalibration.Divergence(counts, 3, 2, new double[4], new double[4])));
    }

    [Fact]
    public void EntropyCalibration_Range_ThresholdsNonNegativeKeepsSigned()
    {
        // Non-negative tensor, counts [4, 2, 1, 1] over [0, 4): 4 bins < 255 levels, so the levels are capped at the
        // bins and i = 4 is the only candidate: t = 4, the range stays [0, 4]. Signed tensors keep min-max.
        var histogram = new ActivationHistogram(new ActivationRange(0, 4), bins: 4);
        histogram.SetCounts([4, 2, 1, 1]);
        Assert.Equal(new ActivationRange(0, 4), EntropyCalibration.Range(new ActivationRange(0, 4), histogram));
        Assert.Equal(new ActivationRange(-2, 3.5f), EntropyCalibration.Range(new ActivationRange(-2, 3.5f), histogram));
    }

    [Fact]
    public void QuantizationParameters_ForActivation_Uint8AffineIncludingZero()
    {
        // [-1, 3]: s = 4 / 255, z = round(1 / s) = round(63.75) = 64.
        var p = QuantizationParameters.ForActivation(new ActivationRange(-1, 3));
        Assert.Equal(4f / 255, p.Scale, 6);
        Assert.Equal(64, p.ZeroPoint);
        Assert.Equal(0f, p.Dequantize(p.QuantizeActivation(0f)));
        Assert.Equal(255, p.QuantizeActivation(10f));
        // A positive-only range is widened to include 0: [2, 5] -> [0, 5], z = 0.
        var relu = QuantizationParameters.ForActivation(new ActivationRange(2, 5));
        Assert.Equal(0, relu.ZeroPoint);
        Assert.Equal(5f / 255, relu.Scale, 6);
    }

    [Fact]
    public void QuantizeWeightValues_EightBitsPerChannel_SymmetricInt8()
    {
        // Channel 0: max |w| = 1.27 -> s = 0.01, codes 127, -50, 0 (0.004 / 0.01 = 0.4 rounds to 0).
        // Channel 1: all zero -> s = 1, codes 0.
        var (codes, scales) = QdqModelWriter.QuantizeWeightValues([1.27f, -0.5f, 0.004f, 0f, 0f, 0f], channels: 2, codeMax: 127);
        Assert.Equal(0.01f, scales[0], 6);
        Assert.Equal(1f, scales[1]);
        Assert.Equal(new sbyte[] { 127, -50, 0, 0, 0, 0 }, codes);
    }

    [Fact]
    public void QuantizeWeightValues_SevenBits_CodesWithin64()
    {
        // max |w| = 1.28 -> s = 1.28 / 64 = 0.02: codes 64, -25 (-0.5 / 0.02), 0 (0.004 / 0.02 = 0.2), -26 (-0.52 / 0.02).
        var (codes, scales) = QdqModelWriter.QuantizeWeightValues([1.28f, -0.5f, 0.004f, -0.52f], channels: 1, codeMax: QuantizationParameters.WeightCodeMax(7));
        Assert.Equal(0.02f, scales[0], 6);
        Assert.Equal(new sbyte[] { 64, -25, 0, -26 }, codes);
    }

    [Theory]
    [InlineData(6)]
    [InlineData(9)]
    public void WeightCodeMax_NotSevenOrEight_Throws(int bits) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizationParameters.WeightCodeMax(bits));
}
