using System.ComponentModel.DataAnnotations;
using KdData.Hosting;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using KdData.Training;

namespace KdData.Tests.Trainer;

/// <summary>
/// The training loop's settings (<see cref="TrainingLoopOptions"/>) are bound per stage: <c>Trainer:Teacher</c>,
/// <c>Trainer:Distill</c>, <c>Trainer:Prune</c> and <c>Trainer:Quantize:Qat</c> (issue 20, item 3). A bad one, set on the real
/// command line, is exit 2 with one line naming the key as the user wrote it, in the section the command binds,
/// never another stage's.
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class LoopSettingsSectionTests
{
    private static readonly string[] Sections = ["Trainer:Teacher", "Trainer:Distill", "Trainer:Prune", "Trainer:Quantize:Qat"];

    private static async Task<(int Code, string[] Errors)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await TrainerCommandLine.RunAsync([.. args, "--Trainer:Data:DecodeWorkers=2"], output, error);
        return (code, error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    private static void AssertNamesNoOtherSection(string line, string section)
    {
        foreach (var other in Sections.Where(s => !string.Equals(s, section, StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(other + ":", line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("teacher", "Trainer:Teacher", "")]
    [InlineData("distill", "Trainer:Distill", "")]
    [InlineData("prune", "Trainer:Prune", "")]
    [InlineData("quantize", "Trainer:Quantize:Qat", " (--qat-learning-rate)")]
    public async Task RunAsync_LearningRateOutOfRange_ExitsTwoNamingTheKeyOfTheCommandsSection(string command, string section, string switchName)
    {
        var (code, errors) = await RunAsync(command, $"--{section}:LearningRate=-1");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        var line = Assert.Single(errors);
        Assert.Equal($"error: {section}:LearningRate{switchName} must be between 1E-09 and 100; got -1", line);
        AssertNamesNoOtherSection(line, section);
    }

    [Theory]
    [InlineData("teacher", "Trainer:Teacher")]
    [InlineData("distill", "Trainer:Distill")]
    [InlineData("prune", "Trainer:Prune")]
    [InlineData("quantize", "Trainer:Quantize:Qat")]
    public async Task RunAsync_MinLearningRateAboveThePeak_ExitsTwoNamingTheKeyOfTheCommandsSection(string command, string section)
    {
        var (code, errors) = await RunAsync(command, $"--{section}:LearningRate=0.01", $"--{section}:MinLearningRate=0.5");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        var line = Assert.Single(errors);
        Assert.StartsWith($"error: {section}:MinLearningRate", line, StringComparison.Ordinal);
        Assert.Contains("(0.5) must not exceed the learning rate (0.01)", line, StringComparison.Ordinal);
        AssertNamesNoOtherSection(line, section);
    }

    [Fact]
    public async Task RunAsync_AnotherStagesLoopSettingInvalid_DoesNotStopTheCommand()
    {
        // A distill run binds Trainer:Distill only: a bad teacher setting is not its business. It fails later for its
        // own reason (no dataset), so the exit code is not the point: no line names Trainer:Teacher.
        var (_, errors) = await RunAsync("distill", "--Trainer:Teacher:Epochs=0");

        Assert.DoesNotContain(errors, e => e.Contains("Trainer:Teacher", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_InvalidOptionsOfAnotherSection_ThrowsNamingThatSectionsKeys()
    {
        var options = new TrainingLoopOptions { Epochs = 0, Optimizer = "adam" };

        var error = Assert.Throws<ValidationException>(() => new TrainingLoop(options, new CrossEntropyObjective(0.1), section: "Trainer:Prune"));

        Assert.Contains("Trainer:Prune:Epochs must be between 1 and 100000; got 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Trainer:Prune:Optimizer must be 'adamw' or 'sgd'; got 'adam'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Trainer:Teacher", error.Message, StringComparison.Ordinal);
    }
}
