using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

public sealed class HardPseudoLabelObjectiveTests
{
    // Rows 0, 1, 5 labeled (row 5's teacher must be ignored); rows 2-4 unlabeled: a confident teacher
    // (max p = e^5 / (e^5 + 2) = 0.9867), an unsure one (max p = e / (e + 2) = 0.5761) and none at all.
    private static readonly double[][] Student =
    [
        [1.0, 0.0, -1.0],
        [0.2, 0.4, 1.5],
        [0.5, 1.0, 0.0],
        [2.0, 1.0, 0.5],
        [0.0, 0.0, 3.0],
        [-0.5, 0.8, 0.1],
    ];

    private static readonly double[][] Teacher =
    [
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0],
        [0.0, 5.0, 0.0],
        [1.0, 0.0, 0.0],
        [double.NaN, double.NaN, double.NaN],
        [9.0, 0.0, 0.0],
    ];

    private static readonly long[] Labels = [0, 2, -1, -1, -1, 1];
    private static readonly bool[] HasTeacher = [false, false, true, true, false, true];
    private static readonly int[] LabeledRows = [0, 1, 5];
    private static readonly int[] UnlabeledRowsWithTeacher = [2, 3];

    [Theory]
    [InlineData(0.95, 1.0, 0.0)]
    [InlineData(0.95, 2.0, 0.1)]
    [InlineData(0.5, 0.5, 0.0)]
    [InlineData(0.99, 1.0, 0.2)]
    public void Compute_MixedRows_MatchesHandComputedFixMatchLoss(double threshold, double unlabeledWeight, double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels, Teacher, HasTeacher);

        var loss = new HardPseudoLabelObjective(threshold, unlabeledWeight, labelSmoothing).Compute(inputs, new ObjectiveSchedule(4.0, 0.9));

        var labeled = LabeledRows.Average(i => HandLoss.CrossEntropy(Student[i], (int)Labels[i], labelSmoothing));
        var kept = UnlabeledRowsWithTeacher.Where(i => HandLoss.Softmax(Teacher[i]).Max() >= threshold).ToArray();
        // Unlabeled mean over all three unlabeled rows; rows below the threshold or without a teacher add 0.
        var unlabeled = kept.Sum(i => HandLoss.CrossEntropy(Student[i], HandLoss.ArgMax(Teacher[i]))) / 3;
        Assert.Equal(labeled + (unlabeledWeight * unlabeled), loss.Loss.item<float>(), 1e-5);
        Assert.Equal(labeled, loss.CrossEntropy, 1e-5);
        Assert.Equal(unlabeled, loss.Distillation, 1e-5);
        Assert.Equal(kept.Length / 3.0, loss.PseudoLabelRate, 1e-9);
    }

    [Fact]
    public void Compute_DefaultThreshold_KeepsOnlyTheConfidentRow()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, Labels, Teacher, HasTeacher);

        var loss = new HardPseudoLabelObjective().Compute(inputs, ObjectiveSchedule.Supervised);
        loss.Loss.backward();

        // Row 2's pseudo-label is class 1: -ln softmax(0.5, 1, 0)_1 = ln(e^-0.5 + 1 + e^-1) = 0.6802.
        Assert.Equal(Math.Log(Math.Exp(-0.5) + 1 + Math.Exp(-1)) / 3, loss.Distillation, 1e-5);
        Assert.Equal(1 / 3.0, loss.PseudoLabelRate, 1e-9);
        var grad = inputs.StudentLogits.grad!;
        Assert.True(grad[2].abs().sum().item<float>() > 0);
        Assert.Equal(0f, grad[3].abs().sum().item<float>());
        Assert.Equal(0f, grad[4].abs().sum().item<float>());
    }

    [Fact]
    public void Compute_AllLabeled_EqualsCrossEntropyObjective()
    {
        using var scope = NewDisposeScope();
        long[] labels = [0, 2, 1, 1, 2, 0];
        var teacher = Teacher.Select(row => row.Select(v => double.IsNaN(v) ? 0.0 : v).ToArray()).ToArray();

        var pseudo = new HardPseudoLabelObjective(labelSmoothing: 0.1).Compute(ObjectiveBatch.Create(Student, labels, teacher), ObjectiveSchedule.Supervised);
        var ce = new CrossEntropyObjective(0.1).Compute(ObjectiveBatch.Create(Student, labels), ObjectiveSchedule.Supervised);

        Assert.Equal(ce.Loss.item<float>(), pseudo.Loss.item<float>(), 1e-6);
        Assert.True(double.IsNaN(pseudo.PseudoLabelRate));
    }

    [Theory]
    [InlineData(1.1, 1.0, 0.0)]
    [InlineData(-0.1, 1.0, 0.0)]
    [InlineData(0.95, -1.0, 0.0)]
    [InlineData(0.95, 1.0, 1.0)]
    public void Constructor_OutOfRange_Throws(double threshold, double unlabeledWeight, double labelSmoothing)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HardPseudoLabelObjective(threshold, unlabeledWeight, labelSmoothing));
    }

    [Fact]
    public void Properties_NameAndTeacher_ArePseudoCeWithTeacher()
    {
        var objective = new HardPseudoLabelObjective(0.9, 2.0, 0.1);

        Assert.Equal(("pseudo-ce", true, 0.9, 2.0, 0.1),
            (objective.Name, objective.NeedsTeacher, objective.Threshold, objective.UnlabeledWeight, objective.LabelSmoothing));
    }
}
