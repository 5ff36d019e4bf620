namespace KdData.Hosting;

/// <summary>
/// Process exit codes of both hosts. Job controllers (Kubernetes Jobs, Azure Container Apps Jobs)
/// retry any non-zero code; <see cref="InvalidConfiguration"/> will fail again until the settings change.
/// </summary>
public static class ExitCodes
{
    /// <summary>The job did all its work.</summary>
    public const int Success = 0;

    /// <summary>An unexpected error stopped the job; the log says which and why.</summary>
    public const int Failure = 1;

    /// <summary>A setting is missing or invalid, or an input is unusable (<see cref="InvalidInputException"/>);
    /// the log names the key or file and the reason. Nothing was done.</summary>
    public const int InvalidConfiguration = 2;

    /// <summary>Stopped by a signal (SIGTERM/Ctrl+C) after saving its progress; rerun to continue.</summary>
    public const int Interrupted = 3;

    /// <summary>Too many inputs failed (an error threshold was crossed); the run's error table lists them.</summary>
    public const int ErrorThresholdExceeded = 4;

    /// <summary>
    /// An output failed its quality check (an int8 model whose top-1 agreement with its fp32 model is under the
    /// minimum); the files are written so they can be inspected, the log names the figure and the setting that
    /// accepts it. A retry with the same settings fails the same way.
    /// </summary>
    public const int QualityCheckFailed = 5;
}
