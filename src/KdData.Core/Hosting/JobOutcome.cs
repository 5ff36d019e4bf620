namespace KdData.Hosting;

/// <summary>The exit code a job sets before it asks the host to stop; read by <see cref="JobHost"/>.</summary>
public sealed class JobOutcome
{
    private int _exitCode = ExitCodes.Success;

    /// <summary>Exit code of the process. Default <see cref="ExitCodes.Success"/>.</summary>
    public int ExitCode
    {
        get => Volatile.Read(ref _exitCode);
        set => Volatile.Write(ref _exitCode, value);
    }
}
