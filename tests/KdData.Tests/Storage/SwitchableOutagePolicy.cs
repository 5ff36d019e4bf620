using Azure.Core;
using Azure.Core.Pipeline;

namespace KdData.Tests.Storage;

/// <summary>
/// Azure SDK pipeline policy that refuses every request while <see cref="Down"/> is set, as a connection refused by a
/// stopped service would, and lets requests through otherwise. Counts the requests it refused.
/// </summary>
internal sealed class SwitchableOutagePolicy : HttpPipelinePolicy
{
    private int _refused;
    private volatile bool _down;

    /// <summary>Whether storage is "down" now.</summary>
    public bool Down
    {
        get => _down;
        set => _down = value;
    }

    public int Refused => Volatile.Read(ref _refused);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfDown();
        ProcessNext(message, pipeline);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        ThrowIfDown();
        await ProcessNextAsync(message, pipeline);
    }

    private void ThrowIfDown()
    {
        if (_down)
        {
            Interlocked.Increment(ref _refused);
            throw new IOException("Injected outage: connection refused.");
        }
    }
}
