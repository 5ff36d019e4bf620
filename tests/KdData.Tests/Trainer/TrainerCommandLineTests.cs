using KdData.Distillation;
using KdData.Hosting;
using KdData.Trainer;
using KdData.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Trainer;

public sealed class TrainerCommandLineTests
{
    private static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await TrainerCommandLine.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public static TheoryData<string> Commands => [.. TrainerCommands.All.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task RunAsync_CommandHelp_ExitsZeroAndListsEverySwitchWithItsDefault(string command)
    {
        var (code, output, _) = await RunAsync(command, "--help");

        Assert.Equal(ExitCodes.Success, code);
        foreach (var entry in TrainerCommands.Find(command)!.Switches)
        {
            Assert.Contains(entry.Name, output, StringComparison.Ordinal);
            Assert.Contains($"[default: {entry.DefaultValue}]", output, StringComparison.Ordinal);
            Assert.Contains(entry.ConfigurationKey, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunAsync_RootHelp_ExitsZeroAndListsTheCommands()
    {
        var (code, output, _) = await RunAsync("--help");

        Assert.Equal(ExitCodes.Success, code);
        Assert.All(TrainerCommands.All, c => Assert.Contains(c.Name, output, StringComparison.Ordinal));
        Assert.Contains("--Section:Key=value", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UnknownCommand_ExitsTwoNamingIt()
    {
        var (code, _, error) = await RunAsync("distil-everything");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("unknown command 'distil-everything'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evaluate", "--epochs", "3")]
    [InlineData("import", "--dest")]
    [InlineData("teacher", "--Trainer:Output")]
    public async Task RunAsync_UnknownSwitchOrMissingValue_ExitsTwo(params string[] args)
    {
        var (code, _, error) = await RunAsync(args);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.StartsWith("error:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoCommand_RunsTheDefaultWithItsSwitches()
    {
        var invocation = TrainerCommandLine.Parse(["--epochs", "2"]);

        Assert.Null(invocation.Error);
        Assert.Equal(TrainerCommands.Default, invocation.Command!.Name);
        Assert.Equal(["--Trainer:Distill:Epochs=2"], invocation.HostArguments);
    }

    [Fact]
    public void Parse_SwitchesAndOverrides_OverridesComeLastAndUntouched()
    {
        var invocation = TrainerCommandLine.Parse(["evaluate", "--Trainer:Data:DecodeWorkers", "3", "--split", "train", "--Trainer:Evaluate:Output=out/x"]);

        Assert.Equal(TrainerCommands.Evaluate, invocation.Command!.Name);
        Assert.Equal(["--Trainer:Evaluate:Split=train", "--Trainer:Data:DecodeWorkers=3", "--Trainer:Evaluate:Output=out/x"], invocation.HostArguments);
    }

    [Fact]
    public void HostArguments_SwitchAndOverride_ReachTheBoundOptions()
    {
        var invocation = TrainerCommandLine.Parse(["teacher", "--model", "wrn", "--Trainer:Output=out/somewhere", "--Trainer:Data:FetchConcurrency", "5"]);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddCommandLine([.. invocation.HostArguments]);
        TrainerCommandLine.AddServices(builder, invocation.Command!);
        using var host = builder.Build();

        var trainer = host.Services.GetRequiredService<IOptions<TrainerOptions>>().Value;
        Assert.Equal("out/somewhere", trainer.Output);
        Assert.Equal("wrn", trainer.Model.Name);
        Assert.Equal(5, host.Services.GetRequiredService<IOptions<TrainingDataOptions>>().Value.FetchConcurrency);
    }

    [Fact]
    public void Switches_DefaultShownInHelp_IsTheShippedDefault()
    {
        // appsettings.json first (what a run actually gets), else the options class's own default; "none" for null.
        var settings = new ConfigurationBuilder().AddJsonFile(Path.Combine(Fixtures.LabelerSamples.RepoRoot, "appsettings.json")).Build();
        var classes = new Dictionary<string, object>
        {
            [TrainerOptions.SectionName] = new TrainerOptions(),
            [EvaluateOptions.SectionName] = new EvaluateOptions(),
            [ImportOptions.SectionName] = new ImportOptions(),
            [DistillationMixOptions.SectionName] = new DistillationMixOptions(),
            [QuantizeOptions.SectionName] = new QuantizeOptions(),
            [ExportOptions.SectionName] = new ExportOptions(),
            [SweepOptions.SectionName] = new SweepOptions(),
            [DistillOptions.SectionName] = new DistillOptions(),
            [PruneOptions.SectionName] = new PruneOptions(),
            [SelfTrainOptions.SectionName] = new SelfTrainOptions(),
            [PipelineOptions.SectionName] = new PipelineOptions(),
            [EnsembleOptions.SectionName] = new EnsembleOptions(),
        };
        foreach (var entry in TrainerCommands.All.SelectMany(c => c.Switches))
        {
            var shipped = settings[entry.ConfigurationKey];
            if (shipped is null)
            {
                var split = entry.ConfigurationKey.LastIndexOf(':');
                var (section, property) = (entry.ConfigurationKey[..split], entry.ConfigurationKey[(split + 1)..]);
                Assert.True(classes.TryGetValue(section, out var options), $"{entry.Name}: no shipped default for {entry.ConfigurationKey}");
                shipped = options.GetType().GetProperty(property)!.GetValue(options) switch
                {
                    null or System.Collections.ICollection { Count: 0 } => "none",
                    var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                };
            }

            Assert.True(shipped == entry.DefaultValue, $"{entry.Name}: --help says '{entry.DefaultValue}' but the shipped default of {entry.ConfigurationKey} is '{shipped}'");
        }
    }

    [Fact]
    public async Task RunAsync_InvalidSettingThroughASwitch_ExitsTwo()
    {
        var (code, _, _) = await RunAsync("evaluate", "--batch-size", "0", "--output", Path.Combine(Path.GetTempPath(), "kd-never-written"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Fact]
    public async Task RunAsync_SettingUnderItsOldRoot_StillAppliesAndWarnsNamingBothNames()
    {
        // A batch size of 0 is rejected at start, so the exit code shows the old key reached the new section.
        var (code, _, error) = await RunAsync("evaluate", "--Evaluate:BatchSize=0", "--output", Path.Combine(Path.GetTempPath(), "kd-never-written"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("warning: setting 'Evaluate:BatchSize' is deprecated: use 'Trainer:Evaluate:BatchSize'", error, StringComparison.Ordinal);
        Assert.Contains(error.Split('\n'), line => line.StartsWith("error: ", StringComparison.Ordinal) && line.Contains("Trainer:Evaluate:BatchSize", StringComparison.Ordinal));
    }
}
