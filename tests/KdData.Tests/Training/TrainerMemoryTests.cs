using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>
/// The live tensor count is process-wide, so this class runs alone (after the parallel classes) to keep other
/// tests' tensors out of the measurement.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TensorCountTestGroup
{
    public const string Name = "Live tensor count";
}

[Collection(TensorCountTestGroup.Name)]
public sealed class TrainerMemoryTests
{
    [Fact]
    public async Task RunAsync_FourHundredSteps_LiveTensorCountDoesNotGrow()
    {
        using var directory = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", NumClasses = QuadrantImages.Classes, InChannels = 1, Width = 4, Depth = 1 };
        var job = new TrainingSetup
        {
            Architecture = spec,
            Train = QuadrantImages.Data(800, seed: 5, batchSize: 8, shuffleSeed: 1), // 100 steps per epoch
            Eval = QuadrantImages.Data(16, seed: 6, batchSize: 8, shuffleSeed: null),
            OutputDirectory = directory.Path,
        };
        var counts = new Dictionary<long, long>();
        var progress = new CallbackProgress<TrainingProgress>(p =>
        {
            // Step reports come after the step's dispose scope has closed.
            if (p.CompletedEpoch is null && p.GlobalStep is 50 or 150 or 400)
            {
                counts[p.GlobalStep] = Tensor.TotalCount;
            }
        });

        // Tensors that earlier tests dropped without disposing are freed by their finalizers whenever a GC runs,
        // which would lower the count in the middle of the measurement (CI once saw 15,984 -> 15,962). Finalize
        // them all before the run, so only this run's tensors can move the count.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Four epochs, so the measurement spans three evaluations and checkpoint saves as well.
        var result = await new TrainingLoop(new TrainingLoopOptions { Epochs = 4 }, new CrossEntropyObjective(0.1), progress: progress).RunAsync(job);

        Assert.Equal(4, result.EpochsCompleted);
        Assert.Equal(3, counts.Count);
        Assert.Equal(counts[50], counts[150]);
        Assert.Equal(counts[50], counts[400]);
    }
}
