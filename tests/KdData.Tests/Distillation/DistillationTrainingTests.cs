using KdData.Distillation;
using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Distillation;

/// <summary>End-to-end: offline KD from the Labeler's real shards through the real data path and loop.</summary>
[Trait("Category", "Slow")]
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class DistillationTrainingTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static readonly TrainingDataOptions Pipeline = new() { DecodeWorkers = 2, ChannelCapacity = 64, PrefetchBatches = 4, CropPadding = 2 };

    [Fact]
    public async Task RunAsync_KdWithPseudoLabeledPool_BeatsSameStudentFromScratch()
    {
        // Same student, seed and (about) the same number of optimizer steps: 120 labeled images for 140 epochs
        // (4 steps each) against 120 labeled + 480 pool images for 30 epochs (19 steps each).
        var spec = new ModelSpec { Name = "convnet", Width = 16, NumClasses = sample.Classes.Count, InChannels = 1 };
        var eval = await InMemoryTrainingData.LoadAsync(
            new StoreTrainingData(new ImageByteCache(sample.Dataset, null), sample.Test, SampleDistillation.ImageOptions, Pipeline, 100, training: false, seed: 1), 100);

        using var scratchDirectory = new TempDirectory();
        var scratch = await new TrainingLoop(new TrainingLoopOptions { Epochs = 140, BatchSize = 32, Seed = 1 }, new CrossEntropyObjective(0.1))
            .RunAsync(Setup(spec, scratchDirectory.Path, new StoreTrainingData(new ImageByteCache(sample.Dataset, null), sample.Train, SampleDistillation.ImageOptions, Pipeline, 32, training: true, seed: 1), eval));

        using var distilledDirectory = new TempDirectory();
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        var data = new DistillationData([.. samples.Stores.Select(s => new ImageByteCache(s, null))], samples.Labeled, samples.Pseudo,
            sample.Classes.Count, SampleDistillation.ImageOptions, Pipeline, new DistillationMixOptions(), 32, seed: 1);
        var curriculum = new DistillationCurriculum(new DistillationCurriculumOptions());
        var distilled = await new TrainingLoop(new TrainingLoopOptions { Epochs = 30, BatchSize = 32, Seed = 1 }, new HintonDistillationObjective())
            .RunAsync(Setup(spec, distilledDirectory.Path, data, eval) with { Schedule = curriculum.At });

        var scratchAccuracy = LastAccuracy(scratchDirectory.Path);
        var distilledAccuracy = LastAccuracy(distilledDirectory.Path);
        // Measured here: 0.755 vs 0.700. Both runs are deterministic on CPU (fixed seeds, ordered data), so the margin
        // does not move between runs; 4 points (8 of 200 test images) leaves room for platform rounding only.
        Assert.True(distilledAccuracy >= scratchAccuracy + 0.04, $"distilled {distilledAccuracy:F3} vs scratch {scratchAccuracy:F3}");
        Assert.False(scratch.Interrupted || distilled.Interrupted);
    }

    private static TrainingSetup Setup(ModelSpec spec, string directory, ITrainingData train, ITrainingData eval) => new()
    {
        Architecture = spec,
        Train = train,
        Eval = eval,
        OutputDirectory = directory,
    };

    private static double LastAccuracy(string directory) =>
        Training.TrainingFiles.MetricsLines(directory)[^1].GetProperty("eval_accuracy").GetDouble();
}
