using KdData.Augmentation;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>
/// A self-teaching run with <see cref="TrainingLoopOptions.DistributionAlignment"/>: the objective gets the aligned
/// guesses, the averages are in the <c>last</c> checkpoint, and a resume continues with them.
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class TrainingLoopDistributionAlignmentTests
{
    private static readonly DistillationAugmentOptions Strong = new() { StrongPool = true, RandAugmentOps = 2, RandAugmentMagnitude = 9, Cutout = 0.5 };

    private static TrainingLoopOptions Options(int epochs, double alignment = 0.9) =>
        new() { Epochs = epochs, BatchSize = 8, Seed = 3, LearningRate = 0.01, DistributionAlignment = alignment };

    [Fact]
    public async Task RunAsync_DistributionAlignment_ObjectiveGetsTheFirstBatchAlignedAsByHand()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 8, Strong);
        using var _ = data;
        var spec = Spec(classes);
        manual_seed(11);
        using var model = ModelZoo.Create(spec, CPU);
        using var copy = ModelZoo.Create(spec, CPU);
        copy.load_state_dict(model.state_dict());
        copy.eval();
        LabeledBatch first;
        await using (var batches = data.ReadEpochAsync(1).GetAsyncEnumerator())
        {
            Assert.True(await batches.MoveNextAsync());
            first = batches.Current;
        }
        Assert.Contains(first.Labels, l => l < 0);
        float[] expected;
        using (var alignment = new DistributionAlignment(classes, 0.9, CPU))
        using (NewDisposeScope())
        using (no_grad())
        {
            var logits = copy.call(tensor(first.TeacherPixels!, [first.Count, first.Channels, first.Height, first.Width]));
            expected = alignment.Align(logits, tensor(first.Labels)).data<float>().ToArray();
        }
        var objective = new RecordingObjective(new HardPseudoLabelObjective(threshold: 0.5));
        using var work = new TempDirectory();

        await new TrainingLoop(Options(1), objective).RunAsync(Job(spec, data, eval, work.Path), model);

        Assert.Equal(expected.Length, objective.TeacherLogits[0].Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], objective.TeacherLogits[0][i], 4);
        }
    }

    [Fact]
    public async Task RunAsync_DistributionAlignment_LastHoldsTheAveragesAndItsSetting()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 8, Strong);
        using var _ = data;
        using var work = new TempDirectory();

        await new TrainingLoop(Options(1), new HardPseudoLabelObjective(threshold: 0.5)).RunAsync(Job(Spec(classes), data, eval, work.Path));

        var training = TrainingFiles.Record(work.Path, "last")["training"]!;
        Assert.Equal(0.9, training["options"]!["distribution_alignment"]!.GetValue<double>());
        foreach (var name in new[] { "model", "target" })
        {
            var values = training["distribution_alignment"]![name]!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
            Assert.Equal(classes, values.Length);
            Assert.Equal(1.0, values.Sum(), 4);
            // Moved off the uniform start by the epoch's batches.
            Assert.Contains(values, v => Math.Abs(v - (1.0 / classes)) > 1e-3);
        }
    }

    [Fact]
    public async Task RunAsync_StoppedMidEpochThenResumed_MatchesUninterruptedRun()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 8, Strong);
        using var _ = data;
        var spec = Spec(classes);
        using var straight = new TempDirectory();
        await new TrainingLoop(Options(2), new HardPseudoLabelObjective(threshold: 0.5)).RunAsync(Job(spec, data, eval, straight.Path));

        using var resumed = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var stopInSecond = new CallbackProgress<TrainingProgress>(p =>
        {
            if (p is { Epoch: 2, Step: 2, CompletedEpoch: null })
            {
                cancellation.Cancel();
            }
        });
        var first = await new TrainingLoop(Options(2), new HardPseudoLabelObjective(threshold: 0.5), progress: stopInSecond)
            .RunAsync(Job(spec, data, eval, resumed.Path), cancellation.Token);
        await new TrainingLoop(Options(2), new HardPseudoLabelObjective(threshold: 0.5)).RunAsync(Job(spec, data, eval, resumed.Path));

        Assert.True(first.Interrupted);
        // Were the averages restarted from uniform on resume, the later batches' targets, and so the weights, would differ.
        Assert.Equal(Averages(straight.Path), Averages(resumed.Path), (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.True(TrainingFiles.MaxWeightDifference(straight.Path, resumed.Path, "last") < 1e-5);
    }

    [Theory]
    [InlineData(0.9, 0.0, "was trained with distribution alignment but Trainer:Distill:DistributionAlignment is 0;")]
    [InlineData(0.9, 0.99, "was trained with distribution alignment 0.9 but Trainer:Distill:DistributionAlignment is 0.99;")]
    [InlineData(0.0, 0.9, "was trained without distribution alignment but Trainer:Distill:DistributionAlignment is 0.9;")]
    public async Task RunAsync_ResumeWithAnotherAlignmentSetting_ThrowsNamingTheCheckpointAndTheKey(double trained, double resumed, string expected)
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 8, pool: 8, batch: 8, Strong);
        using var _ = data;
        using var work = new TempDirectory();
        await new TrainingLoop(Options(1, trained), new HardPseudoLabelObjective(threshold: 0.5)).RunAsync(Job(Spec(classes), data, eval, work.Path));

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => new TrainingLoop(Options(2, resumed), new HardPseudoLabelObjective(threshold: 0.5), section: "Trainer:Distill")
            .RunAsync(Job(Spec(classes), data, eval, work.Path)));

        Assert.Contains("last.json", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DistributionAlignmentWithoutSelfTeacher_ThrowsNamingTheKey()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 4, pool: 4, batch: 8);
        using var _ = data;
        using var work = new TempDirectory();

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => new TrainingLoop(Options(1), new CrossEntropyObjective(0.0), section: "Trainer:Distill")
            .RunAsync(new TrainingSetup { Architecture = Spec(classes), Train = data, Eval = eval, OutputDirectory = work.Path }));

        Assert.Contains("Trainer:Distill:DistributionAlignment", error.Message, StringComparison.Ordinal);
    }

    private static ModelSpec Spec(int classes) => new() { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };

    private static TrainingSetup Job(ModelSpec spec, DistillationData data, InMemoryTrainingData eval, string directory) =>
        new() { Architecture = spec, Train = data, Eval = eval, OutputDirectory = directory, SelfTeacher = true };

    private static float[] Averages(string directory)
    {
        var alignment = TrainingFiles.Record(directory, "last")["training"]!["distribution_alignment"]!;
        return [.. alignment["model"]!.AsArray().Concat(alignment["target"]!.AsArray()).Select(v => v!.GetValue<float>())];
    }
}
