using Azure;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace KdData.Storage;

/// <summary>Which failures are worth retrying a whole storage operation for.</summary>
internal static class TransientFailure
{
    /// <summary>
    /// Transient: 408/429/5xx (except 501/505) from the service, status 0 (transport failure wrapped by the SDK),
    /// I/O and HTTP transport errors, and timeouts that were not requested by the caller.
    /// Never transient: the typed key-state errors (404/409/412 are mapped to those before this is asked),
    /// a missing file, auth failures (401/403), or an open circuit.
    /// </summary>
    public static bool IsTransient(Exception exception, CancellationToken callerToken) => exception switch
    {
        ObjectStoreException => false,
        BrokenCircuitException => false,
        RequestFailedException rfe => rfe.Status is 0 or 408 or 429 || (rfe.Status >= 500 && rfe.Status is not 501 and not 505),
        FileNotFoundException or DirectoryNotFoundException or PathTooLongException => false,
        IOException => true,
        HttpRequestException => true,
        TimeoutRejectedException => true,
        TimeoutException => true,
        OperationCanceledException => !callerToken.IsCancellationRequested,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(e => IsTransient(e, callerToken)),
        _ => false,
    };

    /// <summary>A short, secret-free description of a failure for exception messages and logs.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        BrokenCircuitException => "the circuit breaker is open after repeated failures (calls fail fast until the break duration has passed)",
        TimeoutRejectedException => "the attempt timed out",
        RequestFailedException { Status: 0 } rfe => $"the service could not be reached ({rfe.InnerException?.GetType().Name ?? "transport error"})",
        RequestFailedException rfe => $"HTTP {rfe.Status} {rfe.ErrorCode}".TrimEnd(),
        AggregateException { InnerExceptions.Count: > 0 } aggregate => Describe(aggregate.InnerExceptions[^1]),
        _ => exception.GetType().Name,
    };
}
