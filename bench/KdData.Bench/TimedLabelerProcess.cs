using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KdData.Bench;

/// <summary>
/// The real Labeler program (<c>dotnet kddata-labeler.dll</c>) in a child process, in a fresh working directory (so the
/// program folder's appsettings.json is used), with every line of its output stamped with the bench clock as it
/// arrives. The Labeler's own log timestamps have whole seconds only; arrival times on the clock that also times the
/// Azurite stop and restart give detection and recovery to a few milliseconds.
/// </summary>
internal sealed class TimedLabelerProcess : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private readonly Process _process;
    private readonly Stopwatch _clock;
    private readonly string _workingDirectory;
    private readonly List<TimedLine> _lines = [];

    private TimedLabelerProcess(Process process, Stopwatch clock, string workingDirectory)
    {
        _process = process;
        _clock = clock;
        _workingDirectory = workingDirectory;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The lines so far, in arrival order.</summary>
    public IReadOnlyList<TimedLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <param name="dll">kddata-labeler.dll.</param>
    /// <param name="arguments">Settings, as <c>--Section:Key=value</c>.</param>
    /// <param name="clock">The bench clock the lines are stamped with.</param>
    public static TimedLabelerProcess Start(string dll, IEnumerable<string> arguments, Stopwatch clock)
    {
        var workingDirectory = Directory.CreateTempSubdirectory("kddata-outage-cwd-").FullName;
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        startInfo.ArgumentList.Add(Path.GetFullPath(dll));
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // A partition index or claim run from the caller's environment would change what the Labeler does.
        startInfo.Environment.Remove("JOB_COMPLETION_INDEX");
        startInfo.Environment.Remove("CONTAINER_APP_JOB_EXECUTION_NAME");
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = new Process { StartInfo = startInfo };
        var labeler = new TimedLabelerProcess(process, clock, workingDirectory);
        process.OutputDataReceived += (_, e) => labeler.Append(e.Data);
        process.ErrorDataReceived += (_, e) => labeler.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return labeler;
    }

    /// <summary>
    /// The first line at or after <paramref name="after"/> (bench clock) that <paramref name="match"/> accepts, waiting for
    /// it up to <paramref name="timeout"/>; null when it did not come in time or the process exited without it.
    /// </summary>
    public async Task<TimedLine?> WaitForLineAsync(Func<string, bool> match, double after, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = _clock.Elapsed + timeout;
        while (true)
        {
            // Read HasExited before the lines: once it is true and WaitForExit drained the output, no line is missed.
            var exited = _process.HasExited;
            if (exited)
            {
                _process.WaitForExit();
            }

            foreach (var line in Lines)
            {
                if (line.Seconds >= after && match(line.Text))
                {
                    return line;
                }
            }

            if (exited || _clock.Elapsed >= deadline)
            {
                return null;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>The exit code, or null when the process had not exited within <paramref name="timeout"/> (it is then killed).</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill();
            return null;
        }

        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the Labeler (this process's own child) and anything it started.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <summary>The output with each line's arrival time relative to <paramref name="origin"/> (bench clock seconds).</summary>
    public string Log(double origin)
    {
        var text = new StringBuilder();
        foreach (var line in Lines)
        {
            text.Append(CultureInfo.InvariantCulture, $"[{line.Seconds - origin,9:F3}] ").AppendLine(line.Text);
        }

        return text.ToString();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
        Directory.Delete(_workingDirectory, recursive: true);
    }

    private void Append(string? text)
    {
        if (text is null)
        {
            return;
        }

        var seconds = _clock.Elapsed.TotalSeconds;
        lock (_lines)
        {
            _lines.Add(new TimedLine(seconds, text));
        }
    }
}
