using KdData.Objectives;
using KdData.SoftTargets;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>Cached soft targets reach the KD loss as dense logits (<see cref="SoftTarget.DenseLogits"/>).</summary>
public sealed class DenseTeacherLogitsTests
{
    private static readonly float[] Logits = [1.2f, -0.7f, 3.4f, 0.0f, 2.2f, -3.1f, 0.9f, -1.5f, 2.9f, 0.3f];

    [Theory]
    [InlineData(10, 1.0)]
    [InlineData(10, 4.0)]
    [InlineData(5, 0.5)]
    [InlineData(5, 2.0)]
    [InlineData(3, 1.0)]
    [InlineData(3, 4.0)]
    [InlineData(1, 3.0)]
    public void DenseLogits_SoftmaxAtTemperature_EqualsProbabilitiesAt(int k, double temperature)
    {
        using var scope = NewDisposeScope();
        var target = SoftTarget.FromLogits(Logits, k);
        var dense = new float[Logits.Length];

        target.DenseLogits(dense);

        var viaSoftmax = (tensor(dense) / temperature).softmax(0).data<float>().ToArray();
        var expected = target.ProbabilitiesAt(temperature, Logits.Length);
        for (var c = 0; c < dense.Length; c++)
        {
            Assert.Equal(expected[c], viaSoftmax[c], 1e-6);
        }

        if (k == Logits.Length)
        {
            Assert.Equal(Logits, dense);
        }
    }

    [Fact]
    public void DenseLogits_ZeroTailMass_WritesFiniteFloorBelowTopLogit()
    {
        // The other classes' mass, e^-200 each, is below float precision, so the stored top-1 holds all of it.
        float[] logits = [7f, -193f, -193f, -193f];
        var target = SoftTarget.FromLogits(logits, topK: 1);
        var dense = new float[4];

        target.DenseLogits(dense);

        Assert.Equal([7f, 7f - 1e4f, 7f - 1e4f, 7f - 1e4f], dense);
        Assert.Equal([1f, 0f, 0f, 0f], target.ProbabilitiesAt(1.0, 4));
    }

    [Fact]
    public void DenseLogits_DestinationShorterThanStoredClass_Throws()
    {
        var target = SoftTarget.FromLogits(Logits, 3); // stores classes 2, 8, 4

        Assert.Throws<ArgumentException>(() => target.DenseLogits(new float[5]));
    }

    [Theory]
    [InlineData(4, 1.0, 0.5)]
    [InlineData(4, 2.0, 0.7)]
    [InlineData(2, 4.0, 0.9)]
    [InlineData(6, 3.0, 0.3)]
    public void Compute_TeacherFromTopKSoftTargets_MatchesHandKlAgainstProbabilitiesAt(int k, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        double[][] teacherLogits = [[2.0, -1.0, 0.5, 3.5, -2.0, 0.0], [0.1, 0.2, 4.0, -0.3, 1.0, 0.9], [-1.0, 6.0, 0.0, 0.5, 0.2, -4.0]];
        double[][] student = [[0.3, 0.1, -0.2, 1.0, 0.0, 0.4], [1.0, -1.0, 2.0, 0.0, 0.5, 0.5], [0.0, 1.5, 0.2, -0.5, 0.0, 0.1]];
        long[] labels = [3, -1, 1];
        var targets = teacherLogits.Select(row => SoftTarget.FromLogits([.. row.Select(v => (float)v)], k)).ToArray();
        var dense = targets.Select(t =>
        {
            var row = new float[6];
            t.DenseLogits(row);
            return row.Select(v => (double)v).ToArray();
        }).ToArray();

        var loss = new HintonDistillationObjective().Compute(ObjectiveBatch.Create(student, labels, dense), new ObjectiveSchedule(temperature, alpha));

        // KL by hand with p_t = ProbabilitiesAt(T) (the stored top-k plus the uniform tail) and ln p_s from System.Math.
        double Kd(int i)
        {
            var pt = targets[i].ProbabilitiesAt(temperature, 6);
            var logPs = HandLoss.LogSoftmax(student[i], temperature);
            return temperature * temperature * Enumerable.Range(0, 6).Sum(c => pt[c] > 0 ? pt[c] * (Math.Log(pt[c]) - logPs[c]) : 0.0);
        }

        var expected = (((1 - alpha) * HandLoss.CrossEntropy(student[0], 3)) + (alpha * Kd(0)) + Kd(1) + ((1 - alpha) * HandLoss.CrossEntropy(student[2], 1)) + (alpha * Kd(2))) / 3;
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-4);
    }
}
