using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace KdData.Hosting;

/// <summary>
/// Shows progress the way the environment wants it: a one-line bar redrawn on the terminal when
/// standard error is a terminal, otherwise a structured log line at most every
/// <see cref="LogInterval"/> (container logs must not fill with carriage returns).
/// </summary>
public sealed class ProgressReporter
{
    private readonly ILogger _logger;
    private readonly bool _terminal;
    private readonly Stopwatch _sinceLastLog = Stopwatch.StartNew();
    private readonly Lock _gate = new();
    private bool _lineOpen;

    public ProgressReporter(ILogger logger, bool? terminal = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _terminal = terminal ?? (!Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null);
    }

    /// <summary>Minimum time between log lines when not on a terminal. Default 10 s.</summary>
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>True when drawing a bar on the terminal.</summary>
    public bool IsTerminal => _terminal;

    /// <summary>Reports <paramref name="done"/> of <paramref name="total"/> with a short status text.</summary>
    public void Report(string stage, long done, long total, string status)
    {
        lock (_gate)
        {
            if (_terminal)
            {
                const int Width = 30;
                var fraction = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 0;
                var filled = (int)(fraction * Width);
                var bar = new string('#', filled) + new string('.', Width - filled);
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\r{stage} [{bar}] {done}/{total} {status}   "));
                _lineOpen = true;
                return;
            }

            if (_sinceLastLog.Elapsed >= LogInterval || done == total)
            {
                _sinceLastLog.Restart();
                _logger.LogInformation("{Stage} {Done}/{Total} {Status}", stage, done, total, status);
            }
        }
    }

    /// <summary>Ends the bar's line so that the next log line starts on its own.</summary>
    public void EndLine()
    {
        lock (_gate)
        {
            if (_lineOpen)
            {
                Console.Error.WriteLine();
                _lineOpen = false;
            }
        }
    }
}
