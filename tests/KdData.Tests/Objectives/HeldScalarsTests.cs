using KdData.Objectives;
using KdData.Quantization;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>
/// The losses under the crash's conditions: another thread collects garbage and runs finalizers all the
/// time. Before the distillation loss's Scalars were held (<see cref="HeldScalars"/>) a loop like the first one (4000
/// iterations, with backward) failed with libtorch's "Expected false to be true" from <c>Scalar::toLong</c> (a finalized
/// implicit Scalar).
/// </summary>
public sealed class HeldScalarsTests
{
    [Fact]
    public void Compute_DistillationUnderConstantGarbageCollection_GivesTheSameLossEveryTime()
    {
        var objective = new HintonDistillationObjective();
        var expected = Loss(objective);
        GarbageCollectionHammer.Run(() =>
        {
            for (var i = 0; i < 1500; i++)
            {
                Assert.Equal(expected, Loss(objective));
            }
        });
    }

    [Fact]
    public void RepresentationLossesAndFakeQuantize_UnderConstantGarbageCollection_GiveTheSameValuesEveryTime()
    {
        // Hint, attention transfer, RKD, CRD's InfoNCE and QAT's fake quantization, which used to pass plain numbers
        // (and tensor additions' implicit alpha) to TorchSharp.
        using var hint = new HintLoss(2, 3);
        var expected = RepresentationValues(hint);
        GarbageCollectionHammer.Run(() =>
        {
            for (var i = 0; i < 300; i++)
            {
                Assert.Equal(expected, RepresentationValues(hint));
            }
        });
    }

    private static float[] RepresentationValues(HintLoss hint)
    {
        using var scope = NewDisposeScope();
        var student = linspace(-1, 1, 32).reshape(2, 2, 2, 4);
        var teacher = linspace(1, -2, 48).reshape(2, 3, 2, 4);
        var anchors = nn.functional.normalize(linspace(-1, 1, 8).reshape(2, 4), p: 2, dim: 1);
        var positives = nn.functional.normalize(linspace(1, -0.5, 8).reshape(2, 4), p: 2, dim: 1);
        var bank = nn.functional.normalize(linspace(0.5, -1.5, 20).reshape(5, 4), p: 2, dim: 1);
        Tensor[] values =
        [
            hint.Compute(student, teacher),
            AttentionTransferLoss.Compute([(student, teacher)]),
            RelationalKdLoss.Compute(student.flatten(1), teacher.flatten(1)),
            ContrastiveRepresentationLoss.InfoNce(anchors, positives, bank, tensor(new long[] { 1, 3 }), 0.07),
            FakeQuantize.Activation(student, new QuantizationParameters(0.01f, 100)).sum(),
            FakeQuantize.Weight(teacher, 64).Weight.sum(),
        ];
        return [.. values.Select(v => v.item<float>())];
    }

    private static float Loss(HintonDistillationObjective objective)
    {
        using var scope = NewDisposeScope();
        var student = linspace(-1, 1, 40).reshape(4, 10);
        var teacher = linspace(1, -1, 40).reshape(4, 10);
        var labels = tensor(new long[] { 1, -1, 3, 4 });
        var result = objective.Compute(new ObjectiveInputs { StudentLogits = student, Labels = labels, TeacherLogits = teacher }, new ObjectiveSchedule(4, 0.5));
        return result.Loss.item<float>();
    }
}
