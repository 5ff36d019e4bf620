using KdData.Records;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary><see cref="DistributionAlignment"/> against values computed by hand from ReMixMatch's formula.</summary>
public sealed class DistributionAlignmentTests
{
    private static readonly float[] LabeledLogits = [3f, 0f];
    private static readonly long[] LabeledClass = [1];
    private static readonly float[] PoolGuess = [0f, 0f];
    private static readonly long[] PoolLabel = [-1];

    [Fact]
    public void Align_OnePoolRowOneLabeledRow_HandComputedProbabilities()
    {
        using var alignment = new DistributionAlignment(2, momentum: 0.5, CPU);
        using var scope = NewDisposeScope();
        // Row 0 is labeled (class 0); row 1 is a pool row whose guess is (0.8, 0.2).
        var logits = tensor(new float[] { 0f, 0f, MathF.Log(0.8f), MathF.Log(0.2f) }, [2, 2]);
        var labels = tensor(new long[] { 0, -1 });

        var aligned = alignment.Align(logits, labels).softmax(1).data<float>().ToArray();

        // p_model = 0.5 * (0.5, 0.5) + 0.5 * (0.8, 0.2) = (0.65, 0.35); p_target = 0.5 * (0.5, 0.5) + 0.5 * (1, 0) = (0.75, 0.25).
        Assert.Equal([0.65f, 0.35f], alignment.ModelMarginal, (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([0.75f, 0.25f], alignment.TargetMarginal, (a, b) => Math.Abs(a - b) < 1e-6);
        // q' = normalize(0.8 * 0.75 / 0.65, 0.2 * 0.25 / 0.35) = normalize(0.923077, 0.142857) = (0.865979, 0.134021).
        Assert.Equal(0.865979, aligned[2], 5);
        Assert.Equal(0.134021, aligned[3], 5);
        // The labeled row is returned as it came (logits 0, 0: probabilities one half each).
        Assert.Equal(0.5, aligned[0], 6);
        Assert.Equal(0.5, aligned[1], 6);
    }

    [Fact]
    public void Align_BatchWithoutPoolRows_ModelAverageStays()
    {
        using var alignment = new DistributionAlignment(2, momentum: 0.5, CPU);
        using var scope = NewDisposeScope();
        var logits = tensor(LabeledLogits).reshape(1, 2);
        var labels = tensor(LabeledClass);

        alignment.Align(logits, labels);

        Assert.All(alignment.ModelMarginal, p => Assert.Equal(0.5f, p));
        Assert.Equal([0.25f, 0.75f], alignment.TargetMarginal, (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void Align_ExtremeLogits_ReturnsFiniteLogits()
    {
        using var alignment = new DistributionAlignment(3, momentum: 0.9, CPU);
        using var scope = NewDisposeScope();

        var aligned = alignment.Align(tensor(new float[] { 200f, -200f, 0f }, [1, 3]), tensor(new long[] { -1 }));

        Assert.All(aligned.data<float>().ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Equal(0, aligned.argmax(1).item<long>());
    }

    [Fact]
    public void Load_RecordOfAnotherAlignment_AlignsTheSame()
    {
        using var first = new DistributionAlignment(3, momentum: 0.7, CPU);
        using var second = new DistributionAlignment(3, momentum: 0.7, CPU);
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 1f, 2f, 0f, 0.5f, -1f, 2f, 0f, 0f, 3f }, [3, 3]);
        var labels = tensor(new long[] { 2, -1, -1 });
        first.Align(logits, labels);

        second.Load(first.ToRecord(), "last.json", "Trainer:Distill:DistributionAlignment");

        Assert.Equal(first.ModelMarginal, second.ModelMarginal);
        Assert.Equal(first.TargetMarginal, second.TargetMarginal);
        Assert.Equal(first.Align(logits, labels).data<float>().ToArray(), second.Align(logits, labels).data<float>().ToArray());
    }

    [Fact]
    public void Load_RecordOfOtherWidth_ThrowsNamingTheRecordAndTheMember()
    {
        using var alignment = new DistributionAlignment(3, momentum: 0.7, CPU);

        var error = Assert.Throws<InvalidDataException>(() =>
            alignment.Load(new DistributionAlignmentRecord { Momentum = 0.7, Model = [0.5f, 0.5f], Target = [0.2f, 0.3f, 0.5f] }, "run/last.json", "Trainer:Distill:DistributionAlignment"));

        Assert.Contains("run/last.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("training.distribution_alignment.model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NaNInAnAverage_Throws()
    {
        using var alignment = new DistributionAlignment(2, momentum: 0.7, CPU);

        var error = Assert.Throws<InvalidDataException>(() =>
            alignment.Load(new DistributionAlignmentRecord { Momentum = 0.7, Model = [0.5f, 0.5f], Target = [float.NaN, 0.5f] }, "last.json", "Trainer:Distill:DistributionAlignment"));

        Assert.Contains("training.distribution_alignment.target", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ClassDecayedToZero_Accepted()
    {
        // A class no labeled row has had for long: its p_target underflows to 0, which a resume must accept.
        using var alignment = new DistributionAlignment(2, momentum: 0.7, CPU);
        using var scope = NewDisposeScope();

        alignment.Load(new DistributionAlignmentRecord { Momentum = 0.7, Model = [0.5f, 0.5f], Target = [1f, 0f] }, "last.json", "Trainer:Distill:DistributionAlignment");
        var aligned = alignment.Align(tensor(PoolGuess).reshape(1, 2), tensor(PoolLabel)).softmax(1).data<float>().ToArray();

        Assert.All(aligned, p => Assert.True(float.IsFinite(p)));
        Assert.True(aligned[0] > 0.99f, "the class the labeled rows never hold is aligned away");
    }

    [Fact]
    public void Load_RecordOfAnotherMomentum_ThrowsNamingTheSetting()
    {
        using var alignment = new DistributionAlignment(2, momentum: 0.999, CPU);

        var error = Assert.Throws<KdData.Hosting.InvalidInputException>(() =>
            alignment.Load(new DistributionAlignmentRecord { Momentum = 0.99, Model = [0.5f, 0.5f], Target = [0.5f, 0.5f] }, "run/last.json", "Trainer:Distill:DistributionAlignment"));

        Assert.Contains("'run/last.json' was trained with distribution alignment 0.99 but Trainer:Distill:DistributionAlignment is 0.999", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Align_AlignmentBuiltInsideADisposeScope_OutlivesTheScope()
    {
        DistributionAlignment alignment;
        using (NewDisposeScope())
        {
            alignment = new DistributionAlignment(2, momentum: 0.5, CPU);
        }
        using (alignment)
        using (NewDisposeScope())
        {
            alignment.Align(tensor(PoolGuess).reshape(1, 2), tensor(PoolLabel));

            Assert.Equal(2, alignment.ModelMarginal.Length);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Constructor_MomentumOutsideOpenInterval_Throws(double momentum) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributionAlignment(2, momentum, CPU));
}
