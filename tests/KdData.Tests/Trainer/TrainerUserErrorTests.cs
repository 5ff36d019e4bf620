using KdData.Hosting;
using KdData.Models;
using KdData.Records;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using KdData.Training;

namespace KdData.Tests.Trainer;

/// <summary>
/// User errors (issue 19, item 3): a bad setting or an unusable input is exit 2 with one line naming the key as the
/// user writes it (and its switch), never exit 1 with a stack trace; <c>--help</c> lists each command on one line.
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class TrainerUserErrorTests
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await TrainerCommandLine.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("error: Trainer:Distill:Epochs (--epochs) must be between 1 and 100000; got 0", "distill", "--epochs", "0")]
    [InlineData("error: Trainer:Distill:Epochs (--epochs) must be a whole number; got 'abc'", "distill", "--epochs", "abc")]
    [InlineData("error: Trainer:Teacher:Epochs (--epochs) must be between 1 and 100000; got 0", "teacher", "--epochs", "0")]
    [InlineData("error: Trainer:Teacher:BatchSize (--batch-size) must be between 1 and 1000000; got -3", "teacher", "--Trainer:Teacher:BatchSize=-3")]
    [InlineData("error: Trainer:Quantize:Qat:Epochs (--qat-epochs) must be between 1 and 100000; got 0", "quantize", "--qat-epochs", "0")]
    [InlineData("error: Trainer:Quantize:Method (--method) must be 'ptq' or 'qat'; got 'int4'", "quantize", "--method", "int4")]
    [InlineData("error: Trainer:Prune:Epochs (--fine-tune-epochs) must be between 1 and 100000; got 0", "prune", "--Trainer:Prune:Epochs=0")]
    [InlineData("error: Trainer:Distill:Optimizer must be 'adamw' or 'sgd'; got 'adam'", "distill", "--Trainer:Distill:Optimizer=adam")]
    [InlineData("error: Trainer:Distill:MinLearningRate (0.01) must not exceed the learning rate (0.001).", "distill",
        "--Trainer:Distill:LearningRate=0.001", "--Trainer:Distill:MinLearningRate=0.01")]
    [InlineData("error: Trainer:Objective:Curriculum:AlphaEnd must be between 0 and 1; got 3", "distill", "--Trainer:Objective:Curriculum:AlphaEnd=3")]
    public async Task RunAsync_InvalidSetting_ExitsTwoWithOneLineNamingTheKeyOfTheSectionBound(string expected, params string[] args)
    {
        var (code, _, error) = await RunAsync([.. args, "--Trainer:Data:DecodeWorkers=2"]);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Equal([expected], error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Validate_LoopOptionsOfAnotherSection_NameThatSectionNotTheTeachers()
    {
        var options = new TrainingLoopOptions { Epochs = 0, Optimizer = "adam" };

        var failures = SettingMessages.Validate(options, "Trainer:Prune", new SettingSwitches([KeyValuePair.Create("--epochs", "Trainer:Prune:Epochs")]));

        Assert.Contains("Trainer:Prune:Epochs (--epochs) must be between 1 and 100000; got 0", failures);
        Assert.Contains("Trainer:Prune:Optimizer must be 'adamw' or 'sgd'; got 'adam'", failures);
        Assert.DoesNotContain(failures, f => f.Contains("Trainer:Teacher", StringComparison.Ordinal) || f.Contains("DataAnnotation", StringComparison.Ordinal));
    }

    [Fact]
    public void NameSwitches_KeyAlreadyNamedOrLonger_AddsTheSwitchOnlyAfterTheWholeKey()
    {
        var switches = new SettingSwitches([KeyValuePair.Create("--class-cap", "Trainer:Distill:Shards:ClassCap"), KeyValuePair.Create("--shards", "Trainer:Distill:Shards:Locations:0")]);

        Assert.Equal("Trainer:Distill:Shards:ClassCaps:Bag is -1", switches.NameSwitches("Trainer:Distill:Shards:ClassCaps:Bag is -1"));
        Assert.Equal("Trainer:Distill:Shards:ClassCap (--class-cap) is 'x'", switches.NameSwitches("Trainer:Distill:Shards:ClassCap is 'x'"));
        Assert.Equal("Trainer:Distill:Shards:Locations (--shards): empty", switches.NameSwitches("Trainer:Distill:Shards:Locations: empty"));
        Assert.Equal("Trainer:Distill:Shards:ClassCap (--class-cap) is 'x'", switches.NameSwitches("Trainer:Distill:Shards:ClassCap (--class-cap) is 'x'"));
    }

    [Fact]
    public async Task RunAsync_OutputHoldsAnotherArchitecturesCheckpoint_ExitsTwoAndKeepsIt()
    {
        using var work = new TempDirectory();
        var spec = new ModelSpec { Name = "avgpool_linear", NumClasses = 10, InChannels = 1 };
        using (var model = ModelZoo.Create(spec))
        {
            await CheckpointSerializer.SaveAsync(model, new CheckpointRecord { Architecture = spec }, work.Path, ArtifactFiles.LastCheckpoint);
        }
        var before = await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"));

        // The teacher trains a convnet: "... is for architecture avgpool_linear ...; use another output directory".
        var (code, _, _) = await RunAsync("teacher", "--dataset", SampleRoot, "--output", work.Path, "--epochs", "1", "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json")));
        Assert.False(File.Exists(Path.Combine(work.Path, ArtifactFiles.Metrics)) && new FileInfo(Path.Combine(work.Path, ArtifactFiles.Metrics)).Length > 0);
    }

    [Fact]
    public async Task RunAsync_DatasetManifestNotParquet_ExitsTwo()
    {
        using var work = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(work.Path, "manifest.parquet"), "not parquet");
        await File.WriteAllTextAsync(Path.Combine(work.Path, "classes.json"), "[\"a\", \"b\"]");

        var (code, _, _) = await RunAsync("teacher", "--dataset", work.Path + Path.DirectorySeparatorChar, "--output", Path.Combine(work.Path, "out"), "--epochs", "1");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(Path.Combine(work.Path, "out")));
    }

    [Fact]
    public async Task RunAsync_RootHelp_ListsEachCommandOnOneShortLineAndOnlyTheDefaultSaysDefault()
    {
        var (code, output, _) = await RunAsync("--help");

        Assert.Equal(ExitCodes.Success, code);
        var commands = output[(output.IndexOf("Commands:", StringComparison.Ordinal) + "Commands:".Length)..]
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(TrainerCommands.All.Count, commands.Length);
        foreach (var command in TrainerCommands.All)
        {
            var line = Assert.Single(commands, l => l.StartsWith(command.Name + " ", StringComparison.Ordinal));
            Assert.Contains(command.Summary, line, StringComparison.Ordinal);
            Assert.True(line.Length <= 76, $"'{line}' does not fit an 80-column terminal");
        }
        var defaults = commands.Where(l => l.Contains("default", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.StartsWith(TrainerCommands.Default + " ", Assert.Single(defaults), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TrainerCommands.Teacher, false)]
    [InlineData(TrainerCommands.Distill, true)]
    public async Task RunAsync_CommandHelp_GivesTheFullDescriptionAndDefaultOnlyForTheDefault(string command, bool isDefault)
    {
        var (code, output, _) = await RunAsync(command, "--help");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains(TrainerCommands.Find(command)!.Description, output, StringComparison.Ordinal);
        Assert.Equal(isDefault, output.Contains("default command", StringComparison.Ordinal));
    }
}
