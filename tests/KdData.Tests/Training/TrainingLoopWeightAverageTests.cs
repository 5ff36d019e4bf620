using System.Security.Cryptography;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>
/// A run with <see cref="TrainingLoopOptions.EmaDecay"/>: its checkpoints hold the moving average, the weights being
/// trained are saved beside <c>last</c>, and a resume brings back both.
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class TrainingLoopWeightAverageTests
{
    private static TrainingLoopOptions Options(int epochs, double emaDecay = 0.9) =>
        new() { Epochs = epochs, LearningRate = 0.01, EmaDecay = emaDecay };

    private static TrainingSetup Job(string directory) => QuadrantTrainingRun.Job(directory, QuadrantTrainingRun.Spec);

    [Fact]
    public async Task RunAsync_EmaDecay_LastHoldsTheAverageAndNamesTheRawWeightsBesideIt()
    {
        using var directory = new TempDirectory();
        using var model = ModelZoo.Create(QuadrantTrainingRun.Spec);

        await new TrainingLoop(Options(2), new CrossEntropyObjective(0.1)).RunAsync(Job(directory.Path), model);

        var training = TrainingFiles.Record(directory.Path, "last")["training"]!;
        var rawFile = training["raw_weights"]!.GetValue<string>();
        var raw = File.ReadAllBytes(Path.Combine(directory.Path, rawFile));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(raw)), training["raw_weights_sha256"]!.GetValue<string>());
        // Only the file the record names is kept.
        Assert.Single(Directory.GetFiles(directory.Path, "last.raw.*"));
        // best is never resumed from: it names no raw weights (last's file is replaced on the next save).
        Assert.Null(TrainingFiles.Record(directory.Path, "best")["training"]!["raw_weights"]);

        using var published = Checkpoint(directory.Path, "last");
        using var trained = ModelZoo.Create(QuadrantTrainingRun.Spec);
        ModelWeights.Import(trained, raw);
        // The average trails the trained weights, so they differ; the caller's model ends with what last holds.
        Assert.True(MaxDifference(published.Model, trained) > 1e-4);
        Assert.Equal(0.0, MaxDifference(published.Model, model));
    }

    [Fact]
    public async Task RunAsync_EmaDecay_EvaluatesTheAverage()
    {
        using var directory = new TempDirectory();
        await new TrainingLoop(Options(2), new CrossEntropyObjective(0.1)).RunAsync(Job(directory.Path));
        using var published = Checkpoint(directory.Path, "last");

        // The epoch's eval loss is the checkpoint's (the average's) loss on the evaluation split, recomputed here.
        var expected = TrainingFiles.MetricsLines(directory.Path)[^1].GetProperty("eval_loss").GetDouble();
        Assert.Equal(expected, EvalLoss(published.Model, Job(directory.Path)), 4);
    }

    [Fact]
    public async Task RunAsync_EmaStoppedMidEpochThenResumed_MatchesUninterruptedRun()
    {
        using var straight = new TempDirectory();
        await new TrainingLoop(Options(3), new CrossEntropyObjective(0.1)).RunAsync(Job(straight.Path));

        using var resumed = new TempDirectory();
        using var cancellation = new CancellationTokenSource();
        var stopInSecond = new CallbackProgress<TrainingProgress>(p =>
        {
            if (p is { Epoch: 2, Step: 5, CompletedEpoch: null })
            {
                cancellation.Cancel();
            }
        });
        var first = await new TrainingLoop(Options(3), new CrossEntropyObjective(0.1), progress: stopInSecond).RunAsync(Job(resumed.Path), cancellation.Token);
        await new TrainingLoop(Options(3), new CrossEntropyObjective(0.1)).RunAsync(Job(resumed.Path));

        Assert.True(first.Interrupted);
        // Both the average (the checkpoint) and the trained weights (beside it) come back: were either lost, the
        // resumed run's weights would be off by far more than float rounding.
        Assert.True(TrainingFiles.MaxWeightDifference(straight.Path, resumed.Path, "last") < 1e-5);
        using var a = RawWeights(straight.Path);
        using var b = RawWeights(resumed.Path);
        Assert.True(MaxDifference(a, b) < 1e-5);
    }

    [Fact]
    public async Task RunAsync_ResumeEmaRunWithoutEma_ThrowsNamingTheKey()
    {
        using var directory = new TempDirectory();
        await new TrainingLoop(Options(1), new CrossEntropyObjective(0.1)).RunAsync(Job(directory.Path));

        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            new TrainingLoop(Options(2, emaDecay: 0), new CrossEntropyObjective(0.1), section: "Trainer:Distill").RunAsync(Job(directory.Path)));

        Assert.Contains("last.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("Trainer:Distill:EmaDecay is 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResumePlainRunWithEma_ThrowsNamingTheKey()
    {
        using var directory = new TempDirectory();
        await new TrainingLoop(Options(1, emaDecay: 0), new CrossEntropyObjective(0.1)).RunAsync(Job(directory.Path));

        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            new TrainingLoop(Options(2, emaDecay: 0.99), new CrossEntropyObjective(0.1)).RunAsync(Job(directory.Path)));

        Assert.Contains("without a moving average", error.Message, StringComparison.Ordinal);
        Assert.Contains(":EmaDecay is 0.99", error.Message, StringComparison.Ordinal);
    }

    private static Checkpoint Checkpoint(string directory, string name) =>
        CheckpointSerializer.Decode(File.ReadAllBytes(Path.Combine(directory, name + ".safetensors")), File.ReadAllBytes(Path.Combine(directory, name + ".json")));

    private static nn.Module<Tensor, Tensor> RawWeights(string directory)
    {
        var file = TrainingFiles.Record(directory, "last")["training"]!["raw_weights"]!.GetValue<string>();
        var model = ModelZoo.Create(QuadrantTrainingRun.Spec);
        ModelWeights.Import(model, File.ReadAllBytes(Path.Combine(directory, file)));
        return model;
    }

    private static double MaxDifference(nn.Module a, nn.Module b)
    {
        using var scope = NewDisposeScope();
        var other = b.state_dict();
        return a.state_dict().Max(kv => (kv.Value.to_type(ScalarType.Float64) - other[kv.Key].to_type(ScalarType.Float64)).abs().max().item<double>());
    }

    private static double EvalLoss(nn.Module<Tensor, Tensor> model, TrainingSetup job)
    {
        model.eval();
        using var noGrad = no_grad();
        double sum = 0;
        long count = 0;
        foreach (var batch in job.Eval.ReadEpochAsync(1).ToBlockingEnumerable())
        {
            using var scope = NewDisposeScope();
            var (x, y) = batch.ToTensors(CPU);
            sum += nn.functional.cross_entropy(model.call(x), y, reduction: nn.Reduction.Sum).item<float>();
            count += batch.Count;
        }
        return sum / count;
    }
}
