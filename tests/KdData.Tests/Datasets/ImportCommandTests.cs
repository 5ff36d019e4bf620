using System.Diagnostics;
using System.Text;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Datasets;

/// <summary>
/// <c>kddata-trainer import</c> without its source data: the real program (built before the tests through the test
/// project's reference to it) must stop at start with exit code 2 and one line saying what is missing and how to get it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ImportCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kd-import-cmd-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Import_SourceFolderMissing_ExitsInvalidConfigurationWithOneLineHowToGetIt()
    {
        var (code, output) = await RunImportAsync(Path.Combine(_folder, "no-such-folder"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = Assert.Single(lines);
        Assert.Contains("does not exist", line, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", line, StringComparison.Ordinal);
        Assert.Contains("--source DIR", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_SourceFolderWithoutIdxFiles_NamesTheMissingFiles()
    {
        await File.WriteAllBytesAsync(Path.Combine(_folder, "train-images-idx3-ubyte.gz"), [1]);

        var (code, output) = await RunImportAsync(_folder);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("t10k-labels-idx1-ubyte", output, StringComparison.Ordinal);
        Assert.DoesNotContain("train-images-idx3-ubyte", output, StringComparison.Ordinal);
        Assert.Contains("apt-get install dataset-fashion-mnist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFiles_PlainAndGzippedFiles_AreBothFound()
    {
        File.WriteAllBytes(Path.Combine(_folder, "train-images-idx3-ubyte"), [1]);
        File.WriteAllBytes(Path.Combine(_folder, "train-labels-idx1-ubyte.gz"), [1]);

        Assert.Equal(["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"], IdxImportOptions.MissingFiles(_folder));
        Assert.Equal(4, IdxImportOptions.MissingFiles(Path.Combine(_folder, "absent")).Count);
    }

    private async Task<(int Code, string Output)> RunImportAsync(string source)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory);
        var dll = Path.Combine(LabelerSamples.RepoRoot, "src", "Trainer", "bin", tfm.Parent!.Name, tfm.Name, "kddata-trainer.dll");
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            ArgumentList = { dll, "import" },
        };
        // Through the environment, which every command-line syntax honours.
        startInfo.Environment["Trainer__Import__Source"] = source;
        startInfo.Environment["Trainer__Import__Destination"] = "file:" + Path.Combine(_folder, "dest") + "/";
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.False(Directory.Exists(Path.Combine(_folder, "dest")), "nothing is imported");
        return (process.ExitCode, await stdout + await stderr);
    }
}
