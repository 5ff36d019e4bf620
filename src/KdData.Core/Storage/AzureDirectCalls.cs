using Azure.Storage.Blobs;
using Polly;
using Polly.CircuitBreaker;

namespace KdData.Storage;

/// <summary>
/// The single-request path of one Azure account (see the remarks of <see cref="StorageOptions"/>): a client without SDK
/// retries, a pipeline with only a timeout of <see cref="StorageOptions.ProbeTimeout"/>, and the control of the account's
/// circuit breaker. The reachability probe and lease renewals take it: their callers repeat them on a schedule of their
/// own, so they must neither wait through backoff nor be kept out by a breaker that opened during an outage.
/// </summary>
internal sealed class AzureDirectCalls
{
    private readonly CircuitBreakerManualControl? _breaker;

    public AzureDirectCalls(BlobServiceClient client, TimeSpan timeout, CircuitBreakerManualControl? breaker)
    {
        Client = client;
        Timeout = timeout;
        Pipeline = new ResiliencePipelineBuilder().AddTimeout(timeout).Build();
        _breaker = breaker;
    }

    /// <summary>The account's client with SDK retries off and the network timeout set to <see cref="Timeout"/>.</summary>
    public BlobServiceClient Client { get; }

    /// <summary>How long one direct call may take.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Only the timeout: no retry, no circuit breaker.</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <summary>Storage answered a direct call: close the account's breaker, so operations go through again at once.</summary>
    public Task StorageAnsweredAsync(CancellationToken cancellationToken) =>
        _breaker is null ? Task.CompletedTask : _breaker.CloseAsync(cancellationToken);
}
