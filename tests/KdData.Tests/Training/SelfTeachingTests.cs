using KdData.Augmentation;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>FixMatch's pieces in the real data path and loop: strong pool views, and the model labeling its own weak views.</summary>
public sealed class SelfTeachingTests
{
    private static readonly DistillationAugmentOptions Strong = new() { StrongPool = true, RandAugmentOps = 2, RandAugmentMagnitude = 9, Cutout = 0.5 };

    [Fact]
    public async Task ReadEpochAsync_StrongPool_TeacherViewIsTheWeakViewAndPoolPixelsAreStrong()
    {
        var (weak, _, _) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 16);
        var (strong, _, _) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 16, Strong);
        using (weak)
        using (strong)
        {
            var weakBatches = await ReadAsync(weak);
            var strongBatches = await ReadAsync(strong);

            Assert.Equal(weakBatches.Count, strongBatches.Count);
            var pool = 0;
            foreach (var (w, s) in weakBatches.Zip(strongBatches))
            {
                Assert.Null(w.TeacherPixels);
                Assert.NotNull(s.TeacherPixels);
                Assert.Equal(w.Labels, s.Labels);
                var size = s.Channels * s.Height * s.Width;
                for (var i = 0; i < s.Count; i++)
                {
                    var row = new Range(i * size, (i + 1) * size);
                    // The teacher always sees what the plain online run trains on (the weak view)...
                    Assert.Equal(w.Pixels[row], s.TeacherPixels[row]);
                    if (s.Labels[i] >= 0)
                    {
                        // ...a labeled image keeps that one view...
                        Assert.Equal(w.Pixels[row], s.Pixels[row]);
                    }
                    else
                    {
                        // ...and a pool image's student view is another, strongly augmented one, with a blacked-out square.
                        pool++;
                        Assert.NotEqual(s.TeacherPixels[row], s.Pixels[row]);
                        var black = -SampleDistillation.ImageOptions.GetEffectiveMean()[0] / SampleDistillation.ImageOptions.GetEffectiveStd()[0];
                        Assert.True(s.Pixels[row].Count(v => v == black) >= 7 * 7, "the 14 px cutout leaves at least a clipped 7x7 square black");
                    }
                }
            }
            Assert.Equal(16, pool);
        }
    }

    [Fact]
    public async Task DistillationData_StrongPoolWithoutOnlineTeacher_Throws()
    {
        var (data, _, _) = await OnlineTeacherTests.OnlineDataAsync(labeled: 4, pool: 0, batch: 4);
        data.Dispose();
        var options = new DistillationAugmentOptions { StrongPool = true, MixUp = true };
        Assert.Contains(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)), r => r.ErrorMessage!.Contains("StrongPool", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new KdData.Distillation.DistillationData(
            [new ImageByteCache(TestStores.Factory().Open(SampleDistillation.DatasetFolder + "/"), null)], [], [], 10, SampleDistillation.ImageOptions,
            new TrainingDataOptions(), new KdData.Distillation.DistillationMixOptions(), 4, seed: 1, augment: Strong));
    }

    [Fact]
    public async Task RunAsync_SelfTeacher_LabelsEachTeacherViewWithTheModelInEvalModeBeforeItsStep()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 16, Strong);
        using var _ = data;
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };
        manual_seed(11);
        using var model = ModelZoo.Create(spec, CPU);
        using var copy = ModelZoo.Create(spec, CPU);
        copy.load_state_dict(model.state_dict());
        copy.eval();
        var first = (await ReadAsync(data))[0];
        float[] expected;
        using (NewDisposeScope())
        using (no_grad())
        {
            expected = copy.call(tensor(first.TeacherPixels!, [first.Count, first.Channels, first.Height, first.Width])).data<float>().ToArray();
        }
        var objective = new RecordingObjective(new HardPseudoLabelObjective(threshold: 0.5));
        using var work = new TempDirectory();

        await new TrainingLoop(new TrainingLoopOptions { Epochs = 1, BatchSize = 16, Seed = 3 }, objective)
            .RunAsync(new TrainingSetup { Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path, SelfTeacher = true }, model);

        Assert.Equal(data.BatchesPerEpoch, objective.TeacherLogits.Count);
        Assert.Equal(expected.Length, objective.TeacherLogits[0].Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], objective.TeacherLogits[0][i], 5);
        }
        // Later steps label with the updated model: not the start weights' logits any more.
        Assert.True(model.training);
        Assert.NotEqual(objective.TeacherLogits[0], objective.TeacherLogits[^1]);
        // The epoch's mask rate (share of pool images above the threshold) is in the metrics line.
        using var line = System.Text.Json.JsonDocument.Parse(File.ReadLines(Path.Combine(work.Path, ArtifactFiles.Metrics)).Single());
        Assert.InRange(line.RootElement.GetProperty("pseudo_label_rate").GetDouble(), 0, 1);
    }

    [Fact]
    public async Task RunAsync_EmaTeacher_LabelsEachBatchWithTheHandComputedAverage()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 8, Strong);
        using var _ = data;
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };
        manual_seed(11);
        using var model = ModelZoo.Create(spec, CPU);
        // The weights after each step (the progress report comes after the step and the average's update).
        var states = new List<Dictionary<string, Tensor>> { Snapshot(model) };
        var progress = new CallbackProgress<TrainingProgress>(p =>
        {
            if (p.CompletedEpoch is null)
            {
                states.Add(Snapshot(model));
            }
        });
        var objective = new RecordingObjective(new HardPseudoLabelObjective(threshold: 0.5));
        using var work = new TempDirectory();
        const double decay = 0.5;

        await new TrainingLoop(new TrainingLoopOptions { Epochs = 1, BatchSize = 8, Seed = 3, EmaDecay = decay, EmaTeacher = true }, objective, progress: progress)
            .RunAsync(new TrainingSetup { Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path, SelfTeacher = true }, model);

        var batches = await ReadAsync(data);
        Assert.True(batches.Count >= 3);
        Assert.Equal(batches.Count, objective.TeacherLogits.Count);
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        // a_0 = w_0; a_s = d * a_{s-1} + (1 - d) * w_s for parameters, BatchNorm's buffers as in w_s. Step s + 1 is labeled by a_s.
        var average = states[0].ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var teacher = ModelZoo.Create(spec, CPU);
        for (var s = 0; s < batches.Count; s++)
        {
            if (s > 0)
            {
                foreach (var (name, value) in states[s])
                {
                    average[name] = parameters.Contains(name) ? (average[name] * decay) + (value * (1 - decay)) : value.clone();
                }
            }
            teacher.load_state_dict(average);
            teacher.eval();
            float[] expected;
            using (NewDisposeScope())
            using (no_grad())
            {
                var b = batches[s];
                expected = teacher.call(tensor(b.TeacherPixels!, [b.Count, b.Channels, b.Height, b.Width])).data<float>().ToArray();
            }
            Assert.Equal(expected.Length, objective.TeacherLogits[s].Length);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], objective.TeacherLogits[s][i], 4);
            }
        }
    }

    [Fact]
    public async Task RunAsync_EmaTeacherWithoutSelfTeacher_ThrowsNamingTheKey()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 4, pool: 4, batch: 8);
        using var _ = data;
        using var work = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };

        var error = await Assert.ThrowsAsync<KdData.Hosting.InvalidInputException>(() => new TrainingLoop(
                new TrainingLoopOptions { Epochs = 1, EmaDecay = 0.9, EmaTeacher = true }, new CrossEntropyObjective(0.0), section: "Trainer:Distill")
            .RunAsync(new TrainingSetup { Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path }));

        Assert.Contains("Trainer:Distill:EmaTeacher", error.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        using var noGrad = no_grad();
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
    }

    [Fact]
    public async Task RunAsync_SelfTeacherWithAnotherTeacherSource_Throws()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 4, pool: 4, batch: 8);
        using var _ = data;
        using var teacher = await OnlineTeacher.LoadAsync(TestStores.Factory(), LabelerSamples.TeacherRecord, CPU);
        using var work = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };

        await Assert.ThrowsAsync<ArgumentException>(() => new TrainingLoop(new TrainingLoopOptions { Epochs = 1 }, new HardPseudoLabelObjective())
            .RunAsync(new TrainingSetup { Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path, SelfTeacher = true, Teacher = teacher }));
    }

    private static async Task<List<LabeledBatch>> ReadAsync(KdData.Distillation.DistillationData data)
    {
        var batches = new List<LabeledBatch>();
        await foreach (var batch in data.ReadEpochAsync(1))
        {
            batches.Add(batch);
        }
        return batches;
    }
}
