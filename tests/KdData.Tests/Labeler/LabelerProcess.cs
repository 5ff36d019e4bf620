using System.Diagnostics;
using System.Text;
using System.Text.Json;
using KdData.Labeling;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>
/// The real Labeler program (<c>kddata-labeler.dll</c>, built before the tests through the test project's
/// reference to it) run as a child process with settings on the command line.
/// </summary>
internal sealed class LabelerProcess : IDisposable
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromMinutes(3);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _workingDirectory;

    private LabelerProcess(Process process, string workingDirectory)
    {
        _process = process;
        _workingDirectory = workingDirectory;
    }

    /// <summary>Where the build puts the Labeler for the configuration the tests were built in.</summary>
    public static string DllPath
    {
        get
        {
            // <repo>/tests/KdData.Tests/bin/<Configuration>/<tfm>/
            var tfm = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = tfm.Parent!.Name;
            var path = Path.Combine(LabelerSamples.RepoRoot, "src", "Labeler", "bin", configuration, tfm.Name, "kddata-labeler.dll");
            return File.Exists(path)
                ? path
                : throw new FileNotFoundException($"The Labeler is not built at {path}; build KdData.sln (the test project references src/Labeler so it is built first).", path);
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the Labeler in a fresh working directory (so the program folder's appsettings.json is used).</summary>
    public static LabelerProcess Start(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var workingDirectory = Directory.CreateTempSubdirectory("kd-labeler-cwd-").FullName;
        var startInfo = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(DllPath);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Remove("JOB_COMPLETION_INDEX");
        startInfo.Environment.Remove("CONTAINER_APP_JOB_EXECUTION_NAME");
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        var process = new Process { StartInfo = startInfo };
        var labeler = new LabelerProcess(process, workingDirectory);
        process.OutputDataReceived += (_, e) => labeler.Append(e.Data);
        process.ErrorDataReceived += (_, e) => labeler.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return labeler;
    }

    /// <summary>Runs the Labeler to its end and returns its exit code and printed summary.</summary>
    public static async Task<(int ExitCode, LabelingSummary? Summary, string Output)> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(arguments, environment);
        var code = await process.WaitForExitAsync();
        return (code, process.Summary(), process.Output);
    }

    /// <summary>SIGKILL to the process and its children: no chance to clean up.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as Kubernetes sends before killing a pod.</summary>
    public void Terminate()
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task<int> WaitForExitAsync()
    {
        using var timeout = new CancellationTokenSource(ExitTimeout);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The Labeler did not exit within {ExitTimeout}. Output:\n{Output}");
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>The JSON run summary the Labeler prints at the end, if it got that far.</summary>
    public LabelingSummary? Summary()
    {
        var lines = Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var start = lines.IndexOf("{");
        var end = start < 0 ? -1 : lines.IndexOf("}", start);
        return end < 0 ? null : JsonSerializer.Deserialize<LabelingSummary>(string.Join('\n', lines[start..(end + 1)]));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        Directory.Delete(_workingDirectory, recursive: true);
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
