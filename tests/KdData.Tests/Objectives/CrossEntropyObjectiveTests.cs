using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

public sealed class CrossEntropyObjectiveTests
{
    private static readonly double[][] Student =
    [
        [0.0, Math.Log(2), Math.Log(3)],
        [1.5, -0.5, 0.25],
        [-2.0, 3.0, 0.5],
        [0.3, 0.3, -1.2],
    ];

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void Compute_LogitsOfOneTwoThree_MatchesHandValue(double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create([Student[0]], [2]);

        var loss = new CrossEntropyObjective(labelSmoothing).Compute(inputs, ObjectiveSchedule.Supervised);

        // p = 1/6, 2/6, 3/6: -ln p_2 = ln 2, and the mean of -ln p over the classes is (ln 6 + ln 3 + ln 2) / 3 = ln 36 / 3.
        var expected = ((1 - labelSmoothing) * Math.Log(2)) + (labelSmoothing * Math.Log(36) / 3);
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-6);
        Assert.Equal(expected, loss.CrossEntropy, 1e-6);
        Assert.True(double.IsNaN(loss.Distillation));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(0.3)]
    public void Compute_AllLabeled_EqualsTorchCrossEntropyWithLabelSmoothing(double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        long[] labels = [2, 0, 1, 2];
        var inputs = ObjectiveBatch.Create(Student, labels);

        var loss = new CrossEntropyObjective(labelSmoothing).Compute(inputs, ObjectiveSchedule.Supervised);

        var reference = nn.functional.cross_entropy(inputs.StudentLogits, inputs.Labels, label_smoothing: labelSmoothing).item<float>();
        var hand = Enumerable.Range(0, 4).Average(i => HandLoss.CrossEntropy(Student[i], (int)labels[i], labelSmoothing));
        Assert.Equal(reference, loss.Loss.item<float>(), 1e-6);
        Assert.Equal(hand, loss.Loss.item<float>(), 1e-5);
    }

    [Fact]
    public void Compute_PseudoLabeledRows_AreIgnoredInValueAndGradient()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, [2, -1, 1, -1]);

        var loss = new CrossEntropyObjective(0.1).Compute(inputs, ObjectiveSchedule.Supervised);
        loss.Loss.backward();

        var expected = (HandLoss.CrossEntropy(Student[0], 2, 0.1) + HandLoss.CrossEntropy(Student[2], 1, 0.1)) / 2;
        Assert.Equal(expected, loss.Loss.item<float>(), 1e-5);
        Assert.Equal(expected, loss.CrossEntropy, 1e-5);
        var grad = inputs.StudentLogits.grad!;
        Assert.Equal(0f, grad[1].abs().sum().item<float>());
        Assert.Equal(0f, grad[3].abs().sum().item<float>());
        Assert.True(grad[0].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Compute_NoLabeledRow_ZeroLossThatBackpropagatesAndNaNCrossEntropy()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, [-1, -1, -1, -1]);

        var loss = new CrossEntropyObjective().Compute(inputs, ObjectiveSchedule.Supervised);
        loss.Loss.backward();

        Assert.Equal(0f, loss.Loss.item<float>());
        Assert.True(double.IsNaN(loss.CrossEntropy));
        Assert.Equal(0f, inputs.StudentLogits.grad!.abs().sum().item<float>());
    }

    [Fact]
    public void Properties_NameAndTeacher_AreCeWithoutTeacher()
    {
        var objective = new CrossEntropyObjective(0.2);

        Assert.Equal(("ce", false, 0.2), (objective.Name, objective.NeedsTeacher, objective.LabelSmoothing));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Constructor_LabelSmoothingOutOfRange_Throws(double labelSmoothing)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CrossEntropyObjective(labelSmoothing));
    }

    [Fact]
    public void Compute_LabelsOfWrongShape_ThrowsNamingLabels()
    {
        using var scope = NewDisposeScope();
        var inputs = ObjectiveBatch.Create(Student, [2, 0, 1]);

        var error = Assert.Throws<ArgumentException>(() => new CrossEntropyObjective().Compute(inputs, ObjectiveSchedule.Supervised));

        Assert.Contains("Labels", error.Message, StringComparison.Ordinal);
    }
}
