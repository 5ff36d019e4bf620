using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KdData.Hosting;

/// <summary>
/// A run-to-completion job inside the Generic Host: runs <see cref="RunJobAsync"/> once, records
/// its exit code in <see cref="JobOutcome"/>, then stops the host. The stopping token fires on
/// SIGTERM/Ctrl+C: a job stops taking new work, saves progress and returns
/// <see cref="ExitCodes.Interrupted"/> so a job controller runs it again.
/// </summary>
public abstract class JobService : BackgroundService
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly JobOutcome _outcome;

    protected JobService(IHostApplicationLifetime lifetime, JobOutcome outcome, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(logger);
        _lifetime = lifetime;
        _outcome = outcome;
        Logger = logger;
    }

    /// <summary>The job's logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>Does the job's work; returns an exit code from <see cref="ExitCodes"/>.</summary>
    protected abstract Task<int> RunJobAsync(CancellationToken stoppingToken);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (and log its banner) before the job takes the CPU.
        await Task.Yield();
        try
        {
            _outcome.ExitCode = await RunJobAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            Logger.LogWarning("Stopped by a shutdown request before the job finished; rerun to continue.");
            _outcome.ExitCode = ExitCodes.Interrupted;
        }
        catch (Exception e) when (e is InvalidInputException or Storage.InvalidStorageLocationException)
        {
            // Bad input, not a bug: the message names the file and the fix, a stack trace adds nothing.
            Logger.LogCritical("Invalid input: {Message}", e.Message);
            _outcome.ExitCode = ExitCodes.InvalidConfiguration;
        }
#pragma warning disable CA1031 // The job's last line of defence: log once and turn it into an exit code.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Logger.LogCritical(e, "The job failed: {Message}", e.Message);
            _outcome.ExitCode = ExitCodes.Failure;
        }
        finally
        {
            _lifetime.StopApplication();
        }
    }
}
