namespace KdData.Bench;

/// <summary>One line a child process printed, with the bench clock's reading (seconds) when the line arrived.</summary>
internal readonly record struct TimedLine(double Seconds, string Text);
