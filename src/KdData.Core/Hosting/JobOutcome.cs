namespace KdData.Hosting;

/// <summary>The exit code a job sets before it asks the host to stop; read by <see cref="JobHost"/>.</summary>
public sealed class JobOutcome
{
    private int _exitCode = -1;

    /// <summary>
    /// Exit code of the process. Until the job records one it is <see cref="ExitCodes.Interrupted"/>: a host
    /// that stops before its job finished (e.g. SIGTERM outlasting the shutdown timeout) must not report success.
    /// </summary>
    public int ExitCode
    {
        get => Volatile.Read(ref _exitCode) is var code and >= 0 ? code : ExitCodes.Interrupted;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _exitCode, value);
        }
    }
}
