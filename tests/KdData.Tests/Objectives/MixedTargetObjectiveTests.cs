using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>MixUp / CutMix targets in <c>kd</c> and <c>ce</c>, against values computed by hand.</summary>
public sealed class MixedTargetObjectiveTests
{
    private static readonly double[][] Student =
    [
        [1.0, 2.0, 0.5],
        [0.2, -0.4, 1.1],
        [2.5, 0.0, -0.5],
        [-1.0, 0.5, 3.0],
    ];

    private static readonly double[][] Teacher =
    [
        [0.5, 3.0, 1.0],
        [-1.0, 0.0, 0.5],
        [2.0, 1.0, 0.0],
        [0.0, -1.0, 6.0],
    ];

    // Rows 0, 1 labeled (swapped with each other); rows 2, 3 pseudo-labeled (swapped).
    private static readonly long[] Labels = [1, 2, -1, -1];
    private static readonly long[] Partner = [1, 0, 3, 2];

    private static ObjectiveInputs Inputs(double lambda, bool mixTeacher) =>
        new()
        {
            StudentLogits = ObjectiveBatch.Matrix(Student).requires_grad_(),
            Labels = tensor(Labels),
            TeacherLogits = ObjectiveBatch.Matrix(Teacher),
            Mix = new ObjectiveMix(tensor(Partner), lambda),
            MixTeacherTargets = mixTeacher,
        };

    private static double[] MixedTeacher(int i, double lambda, double temperature)
    {
        var own = HandLoss.Softmax(Teacher[i], temperature);
        var other = HandLoss.Softmax(Teacher[Partner[i]], temperature);
        return [.. own.Zip(other, (a, b) => (lambda * a) + ((1 - lambda) * b))];
    }

    private static double KullbackLeibler(double[] target, double[] student, double temperature)
    {
        var logStudent = HandLoss.LogSoftmax(student, temperature);
        return target.Select((q, c) => q > 0 ? q * (Math.Log(q) - logStudent[c]) : 0).Sum();
    }

    [Theory]
    [InlineData(0.7, 2.0, 0.5, true)]
    [InlineData(0.25, 4.0, 0.9, true)]
    [InlineData(0.7, 2.0, 0.5, false)]
    public void Compute_Kd_MixesHardAndTeacherTargetsByLambda(double lambda, double temperature, double alpha, bool mixTeacher)
    {
        using var scope = NewDisposeScope();
        var objective = new HintonDistillationObjective();

        var loss = objective.Compute(Inputs(lambda, mixTeacher), new ObjectiveSchedule(temperature, alpha));

        var t2 = temperature * temperature;
        double Ce(int i) => (lambda * HandLoss.CrossEntropy(Student[i], (int)Labels[i])) + ((1 - lambda) * HandLoss.CrossEntropy(Student[i], (int)Labels[Partner[i]]));
        double Kd(int i)
        {
            var target = mixTeacher ? MixedTeacher(i, lambda, temperature) : HandLoss.Softmax(Teacher[i], temperature);
            Assert.Equal(1.0, target.Sum(), 12);
            return t2 * KullbackLeibler(target, Student[i], temperature);
        }
        var expected = (((1 - alpha) * Ce(0)) + (alpha * Kd(0)) + ((1 - alpha) * Ce(1)) + (alpha * Kd(1)) + Kd(2) + Kd(3)) / 4;
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-5 * Math.Max(1, expected));
        Assert.Equal((Ce(0) + Ce(1)) / 2, loss.CrossEntropy, 1e-5);
    }

    [Fact]
    public void Compute_LambdaOne_EqualsTheUnmixedLoss()
    {
        using var scope = NewDisposeScope();
        var objective = new HintonDistillationObjective(0.1, confidenceWeighting: true);
        var schedule = new ObjectiveSchedule(3.0, 0.6);

        var mixed = objective.Compute(Inputs(1.0, mixTeacher: true), schedule).Loss.item<float>();
        var plain = objective.Compute(ObjectiveBatch.Create(Student, Labels, Teacher), schedule).Loss.item<float>();

        Assert.Equal(plain, mixed, 1e-5f);
    }

    [Fact]
    public void Compute_Ce_IsSoftLabelCrossEntropyAgainstTheMixedOneHot()
    {
        using var scope = NewDisposeScope();
        const double lambda = 0.35;
        const double smoothing = 0.1;

        var loss = new CrossEntropyObjective(smoothing).Compute(Inputs(lambda, mixTeacher: true), ObjectiveSchedule.Supervised);

        // Explicit soft target: smoothed one-hots mixed by lambda, then -sum_c q_c log p_c.
        double Row(int i)
        {
            var logP = HandLoss.LogSoftmax(Student[i]);
            var q = new double[3];
            for (var c = 0; c < 3; c++)
            {
                q[c] = smoothing / 3;
            }
            q[Labels[i]] += lambda * (1 - smoothing);
            q[Labels[Partner[i]]] += (1 - lambda) * (1 - smoothing);
            Assert.Equal(1.0, q.Sum(), 12);
            return -q.Select((v, c) => v * logP[c]).Sum();
        }
        Assert.Equal((Row(0) + Row(1)) / 2, loss.Loss.item<float>(), 1e-5);
    }

    [Fact]
    public void Compute_PseudoCeWithMix_Throws()
    {
        using var scope = NewDisposeScope();

        Assert.Throws<ArgumentException>(() => new HardPseudoLabelObjective().Compute(Inputs(0.5, mixTeacher: true), new ObjectiveSchedule(1, 0)));
    }
}
