using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>One full training run on the quadrant images, shared by the tests that only inspect its output.</summary>
public sealed class QuadrantTrainingRun : IAsyncLifetime, IDisposable
{
    public const int Epochs = 6;

    private readonly TempDirectory _directory = new();

    public static ModelSpec Spec { get; } = new() { Name = "convnet", NumClasses = QuadrantImages.Classes, InChannels = 1, Width = 8, Depth = 2 };

    public string Directory => _directory.Path;

    public TrainingResult Result { get; private set; } = null!;

    // Noisier than the training images, so evaluation accuracy is not saturated and the best epoch means something.
    public InMemoryTrainingData EvalData { get; } = QuadrantImages.Data(80, seed: 2, batchSize: 32, shuffleSeed: null, noise: 1.0);

    public List<TrainingProgress> Reports { get; } = [];

    public async Task InitializeAsync()
    {
        var options = new TrainingLoopOptions { Epochs = Epochs, LearningRate = 0.01, WarmupEpochs = 1 };
        var trainer = new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: new CallbackProgress<TrainingProgress>(Reports.Add));
        Result = await trainer.RunAsync(Job(Directory, Spec, EvalData));
    }

    public static TrainingSetup Job(string directory, ModelSpec spec, InMemoryTrainingData? eval = null, int trainCount = 200) => new()
    {
        Architecture = spec,
        Train = QuadrantImages.Data(trainCount, seed: 1, batchSize: 16, shuffleSeed: 7),
        Eval = eval ?? QuadrantImages.Data(80, seed: 2, batchSize: 32, shuffleSeed: null),
        OutputDirectory = directory,
        Classes = ["top-left", "top-right", "bottom-left", "bottom-right"],
        Preprocessing = new PreprocessingRecord { Width = 8, Height = 8, Channels = 1 },
    };

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _directory.Dispose();
}

[Collection(TorchGeneratorTestGroup.Name)]
public sealed class TrainingLoopTests(QuadrantTrainingRun run) : IClassFixture<QuadrantTrainingRun>
{
    [Fact]
    public void RunAsync_LearnableData_EvalAccuracyWellAboveChance()
    {
        var lines = TrainingFiles.MetricsLines(run.Directory);

        Assert.False(run.Result.Interrupted);
        Assert.Equal(QuadrantTrainingRun.Epochs, run.Result.EpochsCompleted);
        // Chance is 0.25.
        Assert.True(lines[^1].GetProperty("eval_accuracy").GetDouble() >= 0.8, $"final eval accuracy {lines[^1]}");
        Assert.True(lines[^1].GetProperty("train_loss").GetDouble() < lines[0].GetProperty("train_loss").GetDouble());
    }

    [Fact]
    public void RunAsync_Completed_WritesOneMetricsLinePerEpochWithAllFields()
    {
        var lines = TrainingFiles.MetricsLines(run.Directory);

        Assert.Equal(Enumerable.Range(1, QuadrantTrainingRun.Epochs), lines.Select(l => l.GetProperty("epoch").GetInt32()));
        foreach (var line in lines)
        {
            foreach (var field in new[] { "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "lr", "seconds", "images_per_second", "cpu_ms_per_image" })
            {
                Assert.True(double.IsFinite(line.GetProperty(field).GetDouble()), $"{field} in {line}");
            }
        }
        // Training burns CPU: every epoch's process CPU per image is positive.
        Assert.All(lines, l => Assert.True(l.GetProperty("cpu_ms_per_image").GetDouble() > 0, $"cpu_ms_per_image in {l}"));
        // Cosine decay to MinLearningRate = 0 at the last step.
        Assert.Equal(0.0, lines[^1].GetProperty("lr").GetDouble(), 12);
    }

    [Fact]
    public async Task RunAsync_BestCheckpoint_IsEpochWithHighestEvalAccuracy()
    {
        var accuracies = TrainingFiles.MetricsLines(run.Directory).Select(l => l.GetProperty("eval_accuracy").GetDouble()).ToList();
        var bestEpoch = accuracies.IndexOf(accuracies.Max()) + 1;

        var record = TrainingFiles.Record(run.Directory, "best");
        Assert.Equal(bestEpoch, record["training"]!["epoch"]!.GetValue<int>());
        Assert.Equal(accuracies.Max(), record["metrics"]!["eval_accuracy"]!.GetValue<double>(), 12);
        Assert.Equal(bestEpoch, run.Result.BestEpoch);

        // The stored weights really are that epoch's: evaluating them reproduces its accuracy.
        using var best = await CheckpointSerializer.LoadAsync(run.Result.BestCheckpointPath!);
        Assert.Equal(accuracies.Max(), await AccuracyAsync(best.Model, run.EvalData), 6);
    }

    [Fact]
    public async Task RunAsync_Completed_LastRecordDescribesFinalEpoch()
    {
        using var last = await CheckpointSerializer.LoadAsync(Path.Combine(run.Directory, "last.json"));

        Assert.Equal(QuadrantTrainingRun.Spec, last.Record.Architecture);
        Assert.Equal(4, last.Record.Classes.Count);
        Assert.Equal(1, last.Record.Preprocessing!.Channels);
        Assert.Equal(QuadrantTrainingRun.Epochs, last.Record.Training.Epoch);
        Assert.True(last.Record.Training.EpochComplete);
        Assert.Equal("adamw", last.Record.Training.Options!.Optimizer);
        var finalLine = TrainingFiles.MetricsLines(run.Directory)[^1];
        Assert.Equal(finalLine.GetProperty("eval_accuracy").GetDouble(), last.Record.Metrics["eval_accuracy"], 12);
        Assert.Equal(finalLine.GetProperty("eval_accuracy").GetDouble(), await AccuracyAsync(last.Model, run.EvalData), 6);
        // Exactly one optimizer state file survives, and no temporary files.
        Assert.Single(Directory.GetFiles(run.Directory, "last.optimizer.*.bin"));
        Assert.Empty(Directory.GetFiles(run.Directory, "*.tmp"));
    }

    [Fact]
    public void RunAsync_Progress_ReportsEveryStepAndEachEpochEnd()
    {
        var steps = run.Reports.Where(r => r.CompletedEpoch is null).ToList();
        var epochEnds = run.Reports.Where(r => r.CompletedEpoch is not null).ToList();

        Assert.Equal(QuadrantTrainingRun.Epochs * 13, steps.Count); // 200 samples / 16 = 13 batches
        Assert.Equal(Enumerable.Range(1, steps.Count).Select(i => (long)i), steps.Select(s => s.GlobalStep));
        Assert.All(steps, s => Assert.True(double.IsFinite(s.Loss) && s.ImagesPerSecond > 0));
        Assert.Equal(Enumerable.Range(1, QuadrantTrainingRun.Epochs), epochEnds.Select(e => e.CompletedEpoch!.Epoch));
        // Warm-up of one epoch: the 13th step reaches the base rate.
        Assert.Equal(0.01, steps[12].LearningRate, 12);
        Assert.Equal(0.01 / 13, steps[0].LearningRate, 12);
    }

    [Fact]
    public async Task RunAsync_InterruptedThenRerun_ContinuesEpochNumbering()
    {
        using var directory = new TempDirectory();
        var options = new TrainingLoopOptions { Epochs = 3, LearningRate = 0.01 };
        using var cancellation = new CancellationTokenSource();
        var firstRun = new List<TrainingProgress>();
        var trainer = new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: new CallbackProgress<TrainingProgress>(p =>
        {
            firstRun.Add(p);
            if (p is { Epoch: 2, Step: 3 })
            {
                cancellation.Cancel();
            }
        }));

        var interrupted = await trainer.RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec), cancellation.Token);

        Assert.True(interrupted.Interrupted);
        Assert.Equal(1, interrupted.EpochsCompleted);
        Assert.Equal((2, 3), (firstRun[^1].Epoch, firstRun[^1].Step)); // stopped right after the cancelling step
        Assert.Single(TrainingFiles.MetricsLines(directory.Path));
        var partial = TrainingFiles.Record(directory.Path, "last")["training"]!;
        Assert.Equal(2, partial["epoch"]!.GetValue<int>());
        Assert.False(partial["epoch_complete"]!.GetValue<bool>());
        Assert.Equal(3, partial["steps_in_epoch"]!.GetValue<int>());

        var secondRun = new List<TrainingProgress>();
        var resumed = await new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: new CallbackProgress<TrainingProgress>(secondRun.Add))
            .RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));

        Assert.False(resumed.Interrupted);
        Assert.Equal(3, resumed.EpochsCompleted);
        Assert.Equal([2, 3], secondRun.Select(p => p.Epoch).Distinct());
        Assert.Equal(17, secondRun[0].GlobalStep); // epoch 2 continues with its fourth step (13 steps per epoch)
        Assert.Equal([1, 2, 3], TrainingFiles.MetricsLines(directory.Path).Select(l => l.GetProperty("epoch").GetInt32()));
        var final = TrainingFiles.Record(directory.Path, "last")["training"]!;
        Assert.Equal(3, final["epoch"]!.GetValue<int>());
        Assert.True(final["epoch_complete"]!.GetValue<bool>());
    }

    [Fact]
    public async Task RunAsync_StoppedMidEpochThenResumed_MatchesUninterruptedRun()
    {
        // The interrupted epoch's order is replayed and its first steps skipped; per-step reseeding keeps random draws aligned.
        var options = new TrainingLoopOptions { Epochs = 3, LearningRate = 0.01 };
        using var straight = new TempDirectory();
        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(straight.Path, QuadrantTrainingRun.Spec));

        using var resumed = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var stopInSecond = new CallbackProgress<TrainingProgress>(p =>
        {
            if (p is { Epoch: 2, Step: 5, CompletedEpoch: null })
            {
                cancellation.Cancel();
            }
        });
        var first = await new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: stopInSecond)
            .RunAsync(QuadrantTrainingRun.Job(resumed.Path, QuadrantTrainingRun.Spec), cancellation.Token);
        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(resumed.Path, QuadrantTrainingRun.Spec));

        Assert.True(first.Interrupted);
        var expected = TrainingFiles.MetricsLines(straight.Path);
        var actual = TrainingFiles.MetricsLines(resumed.Path);
        Assert.Equal(3, actual.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i].GetProperty("eval_loss").GetDouble(), actual[i].GetProperty("eval_loss").GetDouble(), 5);
            Assert.Equal(expected[i].GetProperty("eval_accuracy").GetDouble(), actual[i].GetProperty("eval_accuracy").GetDouble(), 9);
        }
        // Alone the two runs are bit-identical (same SHA-256); under a loaded machine the last bits of a few weights
        // have differed once in a full-suite run (multi-threaded CPU kernels may sum in another order), so the test
        // asserts what a resume promises: the same weights up to float rounding, far below any training step's change.
        Assert.True(TrainingFiles.MaxWeightDifference(straight.Path, resumed.Path, "last") < 1e-5);
    }

    [Theory]
    [InlineData("adamw")]
    [InlineData("sgd")]
    public async Task RunAsync_StoppedAtEpochBoundaryThenResumed_MatchesUninterruptedRun(string optimizer)
    {
        // Weights, BatchNorm statistics, optimizer moments (AdamW's step and averages, SGD's momentum buffers), schedule
        // position, data order and random state must all come back for the resumed epochs to reproduce the uninterrupted ones.
        var options = new TrainingLoopOptions { Epochs = 3, LearningRate = 0.01, Optimizer = optimizer };
        using var straight = new TempDirectory();
        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(straight.Path, QuadrantTrainingRun.Spec));

        using var resumed = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var stopAfterFirst = new CallbackProgress<TrainingProgress>(p =>
        {
            if (p.CompletedEpoch is { Epoch: 1 })
            {
                cancellation.Cancel();
            }
        });
        var first = await new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: stopAfterFirst)
            .RunAsync(QuadrantTrainingRun.Job(resumed.Path, QuadrantTrainingRun.Spec), cancellation.Token);
        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(resumed.Path, QuadrantTrainingRun.Spec));

        Assert.Equal(1, first.EpochsCompleted);
        var expected = TrainingFiles.MetricsLines(straight.Path);
        var actual = TrainingFiles.MetricsLines(resumed.Path);
        Assert.Equal(3, actual.Count);
        foreach (var field in new[] { "train_loss", "train_accuracy", "eval_loss", "eval_accuracy", "lr" })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(expected[i].GetProperty(field).GetDouble(), actual[i].GetProperty(field).GetDouble(), 5);
            }
        }
    }

    [Fact]
    public async Task RunAsync_BestMissingAfterCrash_RestoresItFromLastWhenLastIsBest()
    {
        using var directory = new TempDirectory();
        var options = new TrainingLoopOptions { Epochs = 1, LearningRate = 0.01 };
        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));
        var lastWeights = File.ReadAllBytes(Path.Combine(directory.Path, "last.safetensors"));
        // As if the process died after writing 'last' and before writing 'best'.
        File.Delete(Path.Combine(directory.Path, "best.json"));
        File.Delete(Path.Combine(directory.Path, "best.safetensors"));

        var result = await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));

        Assert.Equal(1, result.BestEpoch);
        Assert.NotNull(result.BestCheckpointPath);
        Assert.Equal(lastWeights, File.ReadAllBytes(Path.Combine(directory.Path, "best.safetensors")));
        Assert.Equal(1, TrainingFiles.Record(directory.Path, "best")["training"]!["epoch"]!.GetValue<int>());
    }

    [Fact]
    public async Task RunAsync_MetricsAheadOfCheckpoint_DropsLinesTheCheckpointDoesNotCover()
    {
        using var directory = new TempDirectory();
        var options = new TrainingLoopOptions { Epochs = 2, LearningRate = 0.01 };
        using var cancellation = new CancellationTokenSource();
        var trainer = new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: new CallbackProgress<TrainingProgress>(p =>
        {
            if (p.CompletedEpoch is { Epoch: 1 })
            {
                cancellation.Cancel();
            }
        }));
        var first = await trainer.RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec), cancellation.Token);
        Assert.True(first.Interrupted);
        Assert.Equal(1, first.EpochsCompleted);

        // As if a crash came after epoch 2's metrics line but before its checkpoint, then one mid-write.
        var metricsPath = Path.Combine(directory.Path, "metrics.jsonl");
        await File.AppendAllTextAsync(metricsPath, "{\"epoch\":2,\"eval_accuracy\":-1}\n{\"epoch\":3,\"eval_acc");

        await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));

        var lines = TrainingFiles.MetricsLines(directory.Path);
        Assert.Equal([1, 2], lines.Select(l => l.GetProperty("epoch").GetInt32()));
        Assert.True(lines[1].GetProperty("eval_accuracy").GetDouble() >= 0);
        Assert.True(lines[1].TryGetProperty("train_loss", out _));
    }

    [Fact]
    public async Task RunAsync_AlreadyFinished_TrainsNothingMore()
    {
        var before = File.ReadAllText(Path.Combine(run.Directory, "metrics.jsonl"));
        var reports = new List<TrainingProgress>();
        var options = new TrainingLoopOptions { Epochs = QuadrantTrainingRun.Epochs, LearningRate = 0.01, WarmupEpochs = 1 };

        var result = await new TrainingLoop(options, new CrossEntropyObjective(0.1), progress: new CallbackProgress<TrainingProgress>(reports.Add))
            .RunAsync(QuadrantTrainingRun.Job(run.Directory, QuadrantTrainingRun.Spec, run.EvalData));

        Assert.Empty(reports);
        Assert.Equal(QuadrantTrainingRun.Epochs, result.EpochsCompleted);
        Assert.Equal(run.Result.BestEpoch, result.BestEpoch);
        Assert.Equal(before, File.ReadAllText(Path.Combine(run.Directory, "metrics.jsonl")));
    }

    [Fact]
    public async Task RunAsync_SameSeed_ReproducesFirstEpochAndOtherSeedDiffers()
    {
        async Task<double> FirstEpochLossAsync(int seed)
        {
            using var directory = new TempDirectory();
            await new TrainingLoop(new TrainingLoopOptions { Epochs = 1, Seed = seed, LearningRate = 0.01 }, new CrossEntropyObjective(0.1))
                .RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));
            return TrainingFiles.MetricsLines(directory.Path)[0].GetProperty("train_loss").GetDouble();
        }

        var first = await FirstEpochLossAsync(5);
        var again = await FirstEpochLossAsync(5);
        var other = await FirstEpochLossAsync(6);

        Assert.Equal(first, again, 6);
        Assert.NotEqual(first, other, 6);
    }

    [Fact]
    public async Task RunAsync_CancelledBeforeStart_ReturnsInterruptedWithoutCheckpoint()
    {
        using var directory = new TempDirectory();

        var result = await new TrainingLoop(new TrainingLoopOptions { Epochs = 2 }, new CrossEntropyObjective(0.1))
            .RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec), new CancellationToken(canceled: true));

        Assert.True(result.Interrupted);
        Assert.Equal(0, result.EpochsCompleted);
        Assert.Null(result.LastCheckpointPath);
        Assert.False(File.Exists(Path.Combine(directory.Path, "last.json")));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public async Task RunAsync_EachOptimizer_ReducesLossAndRecordsItsName(string optimizer)
    {
        using var directory = new TempDirectory();
        var options = new TrainingLoopOptions { Epochs = 2, Optimizer = optimizer, LearningRate = optimizer == "sgd" ? 0.05 : 0.01 };

        var result = await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec));

        var lines = TrainingFiles.MetricsLines(directory.Path);
        Assert.Equal(2, result.EpochsCompleted);
        Assert.All(lines, l => Assert.True(double.IsFinite(l.GetProperty("train_loss").GetDouble())));
        Assert.True(lines[1].GetProperty("train_loss").GetDouble() < lines[0].GetProperty("train_loss").GetDouble(), $"{lines[0]} -> {lines[1]}");
        Assert.Equal(optimizer, TrainingFiles.Record(directory.Path, "last")["training"]!["options"]!["optimizer"]!.GetValue<string>());
    }

    [Fact]
    public async Task RunAsync_ResumeWithOtherArchitecture_ThrowsNamingCheckpoint()
    {
        var other = QuadrantTrainingRun.Spec with { Width = 4 };

        // A user error (the output folder holds another run), not a bug: exit 2 with this message, no stack trace.
        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            new TrainingLoop(new TrainingLoopOptions { Epochs = 7 }, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(run.Directory, other)));

        Assert.Contains("last.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("architecture", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LabelOutsideClasses_ThrowsNamingTheLabel()
    {
        using var directory = new TempDirectory();
        var (pixels, labels) = QuadrantImages.Generate(16, seed: 3);
        labels[5] = 9;
        var job = QuadrantTrainingRun.Job(directory.Path, QuadrantTrainingRun.Spec) with
        {
            Train = new InMemoryTrainingData(pixels, labels, 1, 8, 8, batchSize: 8, shuffleSeed: null),
        };

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => new TrainingLoop(new TrainingLoopOptions { Epochs = 1 }, new CrossEntropyObjective(0.1)).RunAsync(job));

        Assert.Contains("label 9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Loss_UniformLogits_IsLnKWithOrWithoutSmoothing()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(3, 4);
        var labels = tensor(new long[] { 0, 2, 3 });

        Assert.Equal(Math.Log(4), CeLoss(logits, labels, 0.0).item<float>(), 5);
        Assert.Equal(Math.Log(4), CeLoss(logits, labels, 0.1).item<float>(), 5);
    }

    [Fact]
    public void Loss_ConfidentCorrectPrediction_SmoothingAddsHandComputedPenalty()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 10, 0, 0, 0 }).reshape(1, 4);
        var labels = tensor(new long[] { 0 });
        // -log p(correct) = a = ln(1 + 3e^-10); -log p(other) = 10 + a.
        var a = Math.Log(1 + (3 * Math.Exp(-10)));
        // Smoothed target: 0.9 on the label plus 0.1/4 on every class.
        var expectedSmoothed = (0.9 * a) + (0.1 * (a + (3 * (10 + a))) / 4);

        var plain = CeLoss(logits, labels, 0.0).item<float>();
        var smoothed = CeLoss(logits, labels, 0.1).item<float>();

        Assert.Equal(a, plain, 5);
        Assert.Equal(expectedSmoothed, smoothed, 4);
        Assert.True(smoothed > plain);
    }

    private static Tensor CeLoss(Tensor logits, Tensor labels, double smoothing) =>
        new CrossEntropyObjective(smoothing).Compute(new ObjectiveInputs { StudentLogits = logits, Labels = labels }, ObjectiveSchedule.Supervised).Loss;

    private static async Task<double> AccuracyAsync(nn.Module<Tensor, Tensor> model, InMemoryTrainingData data)
    {
        model.eval();
        long correct = 0, total = 0;
        await foreach (var batch in data.ReadEpochAsync(1))
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var predicted = model.call(tensor(batch.Pixels, [batch.Count, 1, 8, 8])).argmax(1).data<long>().ToArray();
            correct += predicted.Zip(batch.Labels).Count(p => p.First == p.Second);
            total += batch.Count;
        }
        return (double)correct / total;
    }
}
