using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary>
/// A tiny two-round self-training of the committed sample, run once per test class: the committed teacher (convnet
/// w32) labels the 480 pool and 120 labeled images (two views each), then a convnet student (allowed to be smaller,
/// to keep it quick; w8 in round 1 and w12 in round 2, <c>--widths</c>) is distilled for one epoch per round.
/// </summary>
public sealed class SelfTrainRun : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();

    public string Output => Path.Combine(_directory.Path, "selftrain");

    /// <summary>The first run's exit code.</summary>
    public int ExitCode { get; private set; }

    public static Task<int> RunAsync(string output, params string[] args) =>
        TrainerCommandLine.RunAsync(
            [
                "selftrain", "--dataset", SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar, "--teacher", LabelerSamples.TeacherRecord,
                "--output", output, "--rounds", "2", "--widths", "8,12", "--epochs", "1", "--views", "2", "--batch-size", "64",
                "--Trainer:SelfTrain:AllowSmallerStudent=true", "--Trainer:SelfTrain:LabelBatchSize=64", "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2",
                .. args,
            ],
            TextWriter.Null,
            TextWriter.Null);

    public async Task InitializeAsync() => ExitCode = await RunAsync(Output);

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _directory.Dispose();
}
