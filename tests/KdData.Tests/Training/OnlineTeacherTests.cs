using KdData.Augmentation;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>The online teacher inside the real training loop and data path (committed sample, tiny student).</summary>
public sealed class OnlineTeacherTests
{
    private static readonly TrainingDataOptions Pipeline = new() { DecodeWorkers = 2, ChannelCapacity = 64, PrefetchBatches = 4, CropPadding = 2, HorizontalFlip = true };

    [Fact]
    public async Task RunAsync_OnlineTeacher_LabelsExactlyTheStudentsAugmentedBatchAndStaysFrozen()
    {
        var (data, eval, classes) = await OnlineDataAsync(labeled: 24, pool: 24, batch: 16);
        using var teacher = await OnlineTeacher.LoadAsync(TestStores.Factory(), LabelerSamples.TeacherRecord, CPU);
        var before = teacher.Network.parameters().Select(p => p.detach().clone()).ToList();
        var objective = new RecordingObjective(new HintonDistillationObjective());
        using var work = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };

        await new TrainingLoop(new TrainingLoopOptions { Epochs = 1, BatchSize = 16, Seed = 3 }, objective)
            .RunAsync(new TrainingSetup { Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path, Teacher = teacher, Schedule = (_, _) => new ObjectiveSchedule(4, 0.5) });

        // The same epoch again (the plan and the augmentation draws are seeded by epoch): the teacher run on exactly
        // these pixels must give exactly the logits the objective received, for every sample including pool ones.
        var expected = new List<float[]>();
        await foreach (var batch in data.ReadEpochAsync(1))
        {
            Assert.Contains(batch.Labels, l => l < 0);
            using var scope = NewDisposeScope();
            var x = tensor(batch.Pixels, [batch.Count, batch.Channels, batch.Height, batch.Width]);
            expected.Add(teacher.Logits(x).data<float>().ToArray());
        }
        Assert.Equal(expected.Count, objective.TeacherLogits.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], objective.TeacherLogits[i]);
            Assert.True(objective.AllHaveTeacher[i]);
        }

        // Frozen: no parameter requires grad, none changed, still in eval mode.
        var after = teacher.Network.parameters().ToList();
        Assert.All(after, p => Assert.False(p.requires_grad));
        Assert.All(after.Zip(before), pair => Assert.True(pair.First.allclose(pair.Second, rtol: 0, atol: 0)));
        Assert.False(teacher.Network.training);
        before.ForEach(t => t.Dispose());
    }

    /// <summary>The sample's first labeled images and pool images (no cached views) as online distillation data.</summary>
    internal static async Task<(DistillationData Data, InMemoryTrainingData Eval, int Classes)> OnlineDataAsync(int labeled, int pool, int batch,
        DistillationAugmentOptions? augment = null)
    {
        var dataset = TestStores.Factory().Open(SampleDistillation.DatasetFolder + "/");
        var manifest = await DatasetManifest.ReadAsync(await dataset.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).Take(labeled).ToList();
        var test = manifest.Where(r => r.Split == DatasetSplits.Test).Take(32).ToList();
        var samples = DistillationSamples.Build(dataset, train, test, null);
        var poolSamples = LabelerSamples.ImageNames.Take(pool).Select(n => new DistillationSample(0, DatasetLayout.UnlabeledPrefix + n, -1, [])).ToList();
        var cache = new ImageByteCache(dataset, null);
        var data = new DistillationData([cache], samples.Labeled, poolSamples, 10, SampleDistillation.ImageOptions, Pipeline,
            new DistillationMixOptions(), batch, seed: 5, onlineTeacher: true, augment: augment);
        var eval = await InMemoryTrainingData.LoadAsync(
            new StoreTrainingData(cache, test, SampleDistillation.ImageOptions, Pipeline, 32, training: false, seed: 1), 32);
        return (data, eval, 10);
    }
}
