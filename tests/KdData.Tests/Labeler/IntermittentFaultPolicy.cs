using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace KdData.Tests.Labeler;

/// <summary>
/// Azure SDK pipeline policy failing every <c>every</c>-th request (a 503 or a connection reset, alternately),
/// either before it reaches the service or after the service has done it (the response is lost).
/// Only requests whose URI contains <c>pathContains</c> count, when it is given; at most <c>limit</c> faults are injected.
/// </summary>
internal sealed class IntermittentFaultPolicy : HttpPipelinePolicy
{
    private readonly int _every;
    private readonly bool _afterService;
    private readonly string? _pathContains;
    private readonly int _limit;
    private int _requests;
    private int _injected;

    public IntermittentFaultPolicy(int every, bool afterService, string? pathContains = null, int limit = int.MaxValue)
    {
        _limit = limit;
        _every = every;
        _afterService = afterService;
        _pathContains = pathContains;
    }

    public int Injected => Volatile.Read(ref _injected);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var fail = ShouldFail(message);
        if (fail && !_afterService)
        {
            throw Fault();
        }

        ProcessNext(message, pipeline);
        if (fail)
        {
            throw Fault();
        }
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var fail = ShouldFail(message);
        if (fail && !_afterService)
        {
            throw Fault();
        }

        await ProcessNextAsync(message, pipeline);
        if (fail)
        {
            throw Fault();
        }
    }

    private bool ShouldFail(HttpMessage message) =>
        (_pathContains is null || message.Request.Uri.ToString().Contains(_pathContains, StringComparison.Ordinal))
        && Interlocked.Increment(ref _requests) % _every == 0
        && Injected < _limit;

    private Exception Fault() =>
        Interlocked.Increment(ref _injected) % 2 == 1
            ? new RequestFailedException(503, "Injected fault: service unavailable.", "ServerBusy", null)
            : new IOException("Injected fault: connection reset by peer.");
}
