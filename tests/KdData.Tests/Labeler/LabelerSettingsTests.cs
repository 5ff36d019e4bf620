using KdData.Hosting;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>The Labeler program refuses bad partition settings before doing any work.</summary>
[Trait("Category", "Slow")]
public sealed class LabelerSettingsTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("kd-labeler-settings-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Theory]
    [InlineData("abc", new string[0])]
    [InlineData("2", new[] { "--Labeler:Partition:Count=2" })]
    [InlineData(null, new[] { "--Labeler:Partition:Count=2", "--Labeler:Partition:Index=5" })]
    public async Task Program_InvalidPartition_ExitsWithBadConfigurationAndWritesNothing(string? jobCompletionIndex, string[] settings)
    {
        var environment = jobCompletionIndex is null ? null : new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = jobCompletionIndex };

        var (code, _, log) = await LabelerProcess.RunAsync(
            [
                $"--Labeler:Input={LabelerSamples.UnlabeledFolder}/",
                $"--Labeler:Output={_output}/",
                $"--Labeler:Teacher={LabelerSamples.TeacherRecord}",
                .. settings,
            ],
            environment);

        Assert.True(code == ExitCodes.InvalidConfiguration, log);
        Assert.Contains(jobCompletionIndex == "abc" ? "JOB_COMPLETION_INDEX" : "Labeler:Partition:Index", log, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_output));
    }

    [Theory]
    [InlineData("Labeler:Partition:ClaimRun", new[] { "--Labeler:Partition:Claim=true" })]
    [InlineData("Labeler:Partition:Index", new[] { "--Labeler:Partition:Claim=true", "--Labeler:Partition:ClaimRun=r1", "--Labeler:Partition:Index=0" })]
    [InlineData("Labeler:Partition:ClaimRun", new[] { "--Labeler:Partition:Claim=true", "--Labeler:Partition:ClaimRun=a/b" })]
    public async Task Program_InvalidClaimSettings_ExitsWithBadConfigurationNamingTheSetting(string setting, string[] settings)
    {
        var (code, _, log) = await LabelerProcess.RunAsync(
        [
            $"--Labeler:Input={LabelerSamples.UnlabeledFolder}/",
            $"--Labeler:Output={_output}/",
            $"--Labeler:Teacher={LabelerSamples.TeacherRecord}",
            .. settings,
        ]);

        Assert.True(code == ExitCodes.InvalidConfiguration, log);
        Assert.Contains(setting, log, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_output));
    }

    [Fact]
    public async Task Program_Help_PrintsUsageAndLabelsNothing()
    {
        var (code, summary, log) = await LabelerProcess.RunAsync(["--help"]);

        Assert.True(code == ExitCodes.Success, log);
        Assert.Null(summary);
        Assert.Contains("Usage: kddata-labeler", log, StringComparison.Ordinal);
        Assert.Contains("--Labeler:Input=", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("label", "unknown argument 'label'")]
    [InlineData("--input=x", "unknown argument '--input=x'")]
    [InlineData("--Labeler:Output", "setting '--Labeler:Output' has no value")]
    public async Task Program_ArgumentNotASetting_ExitsWithBadConfigurationNamingIt(string argument, string message)
    {
        var (code, summary, log) = await LabelerProcess.RunAsync([$"--Labeler:Output={_output}/", argument]);

        Assert.True(code == ExitCodes.InvalidConfiguration, log);
        Assert.Null(summary);
        Assert.Contains(message, log, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_output));
    }
}
