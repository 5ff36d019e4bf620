using Azure.Core;
using Azure.Core.Pipeline;

namespace KdData.Tests.Storage;

/// <summary>
/// Azure SDK pipeline policy that lets the service carry out the requests with the given 1-based numbers and then
/// loses their responses (a connection reset), so the client retries an operation that already took effect.
/// </summary>
internal sealed class LostResponsePolicy : HttpPipelinePolicy
{
    private readonly HashSet<int> _lost;
    private int _requests;

    public LostResponsePolicy(params int[] lostRequests)
    {
        _lost = [.. lostRequests];
    }

    public int Requests => Volatile.Read(ref _requests);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var request = Interlocked.Increment(ref _requests);
        ProcessNext(message, pipeline);
        ThrowIfLost(request);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var request = Interlocked.Increment(ref _requests);
        await ProcessNextAsync(message, pipeline);
        ThrowIfLost(request);
    }

    private void ThrowIfLost(int request)
    {
        if (_lost.Contains(request))
        {
            throw new IOException($"Injected fault: response to request {request} lost (connection reset by peer).");
        }
    }
}
