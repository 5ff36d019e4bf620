namespace KdData.Trainer;

/// <summary>
/// Stops a nested host (a sweep point's distill run) when the outer host stops, so a shutdown request reaches the
/// running point by its own stopping token whatever delivered it (SIGTERM, Ctrl+C, or a test's cancellation): the
/// point saves its progress and exits 3, as a lone <c>distill</c> would.
/// </summary>
public sealed class LinkedShutdown(IHostApplicationLifetime lifetime, CancellationToken outer) : IHostedService, IDisposable
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = outer.Register(lifetime.StopApplication);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration.Dispose();
}
