using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace KdData.Tests.Storage;

/// <summary>
/// Azure SDK pipeline policy that fails the first <c>failures</c> requests (alternating a 503 and a connection reset)
/// before they reach the service; <see cref="int.MaxValue"/> means a permanent outage. While <see cref="Down"/> is set it
/// also refuses every request, as a stopped service would (connection refused), whatever the count.
/// </summary>
internal sealed class FaultInjectionPolicy : HttpPipelinePolicy
{
    private readonly int _failures;
    private int _requests;
    private volatile bool _down;

    public FaultInjectionPolicy(int failures)
    {
        _failures = failures;
    }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Whether storage is "down" now: every request is refused.</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    public int InjectedFailures => Math.Min(Requests, _failures);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfFaulted();
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfFaulted();
        await ProcessNextAsync(message, pipeline);
    }

    private void ThrowIfFaulted()
    {
        int request = Interlocked.Increment(ref _requests);
        if (_down)
        {
            throw new IOException("Injected outage: connection refused.");
        }

        if (request <= _failures)
        {
            throw request % 2 == 1
                ? new RequestFailedException(503, "Injected fault: service unavailable.", "ServerBusy", null)
                : new IOException("Injected fault: connection reset by peer.");
        }
    }
}
