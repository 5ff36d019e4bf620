using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

public sealed class HintonDistillationObjectiveTests
{
    // Six rows, four classes: two labeled with a teacher, one labeled without, two pseudo-labeled (one confident, one
    // not), one with neither. The no-teacher rows' teacher logits are NaN filler that must not matter.
    private static readonly double[][] Student =
    [
        [1.0, 2.0, 0.5, -1.0],
        [0.2, -0.4, 1.1, 0.7],
        [2.5, 0.0, -0.5, 0.1],
        [-1.0, 0.5, 3.0, 0.0],
        [0.3, 0.2, 0.1, 0.0],
        [1.0, 1.0, 1.0, 1.0],
    ];

    private static readonly double[][] Teacher =
    [
        [0.5, 3.0, 1.0, -2.0],
        [-1.0, 0.0, 0.5, 2.5],
        [double.NaN, double.NaN, double.NaN, double.NaN],
        [0.0, -1.0, 6.0, 1.0],
        [0.4, 0.6, 0.2, 0.0],
        [double.NaN, double.NaN, double.NaN, double.NaN],
    ];

    private static readonly long[] Labels = [1, 3, 0, -1, -1, -1];
    private static readonly bool[] HasTeacher = [true, true, false, true, true, false];
    private static readonly int[] RowsWithTeacher = [0, 1, 3, 4];

    [Theory]
    [InlineData(1.0, 0.5, 0.0, false)]
    [InlineData(2.0, 0.9, 0.0, true)]
    [InlineData(4.0, 0.3, 0.1, false)]
    [InlineData(4.0, 0.7, 0.1, true)]
    [InlineData(0.5, 1.0, 0.2, true)]
    public void Compute_MixedRows_MatchesHandComputedLoss(double temperature, double alpha, double labelSmoothing, bool confidenceWeighting)
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels, Teacher, HasTeacher);
        var objective = new HintonDistillationObjective(labelSmoothing, confidenceWeighting);

        var loss = objective.Compute(inputs, new ObjectiveSchedule(temperature, alpha));

        var t2 = temperature * temperature;
        var ce = Enumerable.Range(0, 3).Select(i => HandLoss.CrossEntropy(Student[i], (int)Labels[i], labelSmoothing)).ToArray();
        var kd = RowsWithTeacher.ToDictionary(i => i, i => t2 * HandLoss.KullbackLeibler(Teacher[i], Student[i], temperature));
        double Weight(int i) => confidenceWeighting ? HandLoss.Softmax(Teacher[i]).Max() : 1.0;
        var expected = (
            ((1 - alpha) * ce[0]) + (alpha * kd[0])       // labeled + teacher
            + ((1 - alpha) * ce[1]) + (alpha * kd[1])     // labeled + teacher
            + ce[2]                                       // labeled, no teacher
            + (Weight(3) * kd[3])                         // pseudo-labeled
            + (Weight(4) * kd[4])                         // pseudo-labeled
            + 0.0) / 6;                                   // neither: counts in N only
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-5 * Math.Max(1, expected));
        Assert.Equal(ce.Average(), loss.CrossEntropy, 1e-5);
        Assert.Equal(kd.Values.Average(), loss.Distillation, 1e-5 * Math.Max(1, kd.Values.Average()));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    public void Compute_UniformStudentAgainstThreeToOneTeacher_MatchesClosedForm(double temperature)
    {
        using var scope = NewDisposeScope();
        // Teacher logits (ln 3, 0): p_t^T = (3^(1/T), 1) / (3^(1/T) + 1); the student is uniform, p_s = 1/2 at any T.
        var inputs = ObjectiveBatch.Create([[0.0, 0.0]], [-1], [[Math.Log(3), 0.0]]);

        var loss = new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(temperature, 0.5));

        var a = Math.Pow(3, 1 / temperature);
        var p = new[] { a / (a + 1), 1 / (a + 1) };
        var expected = temperature * temperature * ((p[0] * Math.Log(2 * p[0])) + (p[1] * Math.Log(2 * p[1])));
        // T = 1: 0.75 ln 1.5 + 0.25 ln 0.5 = 0.1308121; T = 2: 4 * (...) with sqrt 3.
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-6);
        if (temperature == 1.0)
        {
            Assert.Equal(0.130812, loss.Loss.item<float>(), 1e-6);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Compute_AlphaZeroAllLabeled_EqualsCrossEntropyObjective(double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        long[] labels = [1, 3, 0, 2, 1, 0];
        var teacher = Teacher.Select(row => row.Select(v => double.IsNaN(v) ? 0.0 : v).ToArray()).ToArray();

        var kd = new HintonDistillationObjective(labelSmoothing).Compute(
            ObjectiveBatch.Create(Student, labels, teacher), new ObjectiveSchedule(4.0, 0.0));
        var ce = new CrossEntropyObjective(labelSmoothing).Compute(ObjectiveBatch.Create(Student, labels), ObjectiveSchedule.Supervised);

        Assert.Equal(ce.Loss.item<float>(), kd.Loss.item<float>(), 1e-6);
        Assert.Equal(ce.CrossEntropy, kd.CrossEntropy, 1e-6);
    }

    [Fact]
    public void Compute_NoTeacherLogits_IsCrossEntropyOverTheWholeBatch()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels);

        var loss = new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(4.0, 0.9));

        var expected = Enumerable.Range(0, 3).Sum(i => HandLoss.CrossEntropy(Student[i], (int)Labels[i])) / 6;
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-6);
        Assert.True(double.IsNaN(loss.Distillation));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(4.0)]
    [InlineData(20.0)]
    public void Compute_TeacherProbabilitiesUnderflow_LossAndGradientFiniteAndNonZero(double temperature)
    {
        using var scope = NewDisposeScope();
        // z_max - 1e4 (the dense-logits floor) and a -inf: p_t is exactly 0 for those classes at these temperatures.
        double[][] teacher =
        [
            [5.0, 5.0 - 1e4, 5.0 - 1e4, 5.0 - 1e4],
            [2.0, 1.0, 2.0 - 1e4, double.NegativeInfinity],
        ];
        var inputs = ObjectiveBatch.Create([[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 0.0]], [0, -1], teacher);

        var loss = new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(temperature, 0.5));
        loss.Loss.backward();

        var grad = inputs.StudentLogits.grad!;
        Assert.True(float.IsFinite(loss.Loss.item<float>()) && loss.Loss.item<float>() > 0);
        Assert.True(grad.isfinite().all().item<bool>());
        Assert.True(grad[0].abs().sum().item<float>() > 0);
        Assert.True(grad[1].abs().sum().item<float>() > 0);
        var t2 = temperature * temperature;
        var expected = (0.5 * HandLoss.CrossEntropy([0.1, 0.2, 0.3, 0.4], 0))
            + (0.5 * t2 * HandLoss.KullbackLeibler(teacher[0], [0.1, 0.2, 0.3, 0.4], temperature))
            + (t2 * HandLoss.KullbackLeibler(teacher[1], [1.0, -1.0, 0.5, 0.0], temperature));
        Assert.Equal(expected / 2, loss.Loss.item<float>(), 1e-4 * Math.Max(1, expected));
    }

    [Fact]
    public void Compute_StudentEqualsTeacher_ZeroDistillationAndZeroGradientOnPseudoLabeledRows()
    {
        using var scope = NewDisposeScope();
        double[][] logits = [[0.5, 2.0, -1.0], [1.0, 0.0, 0.0]];
        var inputs = ObjectiveBatch.Create(logits, [-1, -1], logits);

        var loss = new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(3.0, 0.9));
        loss.Loss.backward();

        Assert.Equal(0.0, loss.Distillation, 1e-6);
        Assert.True(inputs.StudentLogits.grad!.abs().max().item<float>() < 1e-6);
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(-1.0, 0.5)]
    [InlineData(double.PositiveInfinity, 0.5)]
    [InlineData(2.0, 1.5)]
    [InlineData(2.0, -0.1)]
    public void Compute_InvalidSchedule_Throws(double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels, Teacher, HasTeacher);

        Assert.Throws<ArgumentOutOfRangeException>(() => new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(temperature, alpha)));
    }

    [Fact]
    public void Compute_TeacherOfOtherShape_Throws()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels, [.. Teacher.Select(row => row[..3])]);

        var error = Assert.Throws<ArgumentException>(() => new HintonDistillationObjective().Compute(inputs, new ObjectiveSchedule(2, 0.5)));

        Assert.Contains("Teacher logits", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Properties_NameAndTeacher_AreKdWithTeacher()
    {
        var objective = new HintonDistillationObjective(0.1, confidenceWeighting: true);

        Assert.Equal(("kd", true, 0.1, true), (objective.Name, objective.NeedsTeacher, objective.LabelSmoothing, objective.ConfidenceWeighting));
    }
}
