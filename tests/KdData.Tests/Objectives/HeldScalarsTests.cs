using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>
/// The distillation loss under the crash's conditions: another thread collects garbage and runs finalizers all the
/// time. Before its Scalars were held (<see cref="HeldScalars"/>) a loop like this one (4000 iterations, with backward) failed
/// with libtorch's "Expected false to be true" from <c>Scalar::toLong</c> (a finalized implicit Scalar).
/// </summary>
public sealed class HeldScalarsTests
{
    [Fact]
    public void Compute_DistillationUnderConstantGarbageCollection_GivesTheSameLossEveryTime()
    {
        var objective = new HintonDistillationObjective();
        var expected = Loss(objective);
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            for (var i = 0; i < 1500; i++)
            {
                Assert.Equal(expected, Loss(objective));
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
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
