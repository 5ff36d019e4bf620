namespace KdData.Hosting;

/// <summary>
/// An input a job was pointed at is unusable as it stands: missing, malformed, or inconsistent with
/// another input (e.g. soft-target shards labeled for other classes than the student's). Like a bad
/// setting, rerunning will not help until the input or the settings change, so <see cref="JobService"/>
/// turns it into <see cref="ExitCodes.InvalidConfiguration"/> (exit 2) and logs only the message,
/// which names the offending file and says what to do.
/// </summary>
public sealed class InvalidInputException : Exception
{
    public InvalidInputException()
    {
    }

    public InvalidInputException(string message)
        : base(message)
    {
    }

    public InvalidInputException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
