using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace KdData.Storage;

/// <summary>
/// Runs one storage operation through the operation-level Polly pipeline and turns whatever is left
/// after the retry budget into a <see cref="StorageOperationException"/> (typed key-state errors pass through).
/// </summary>
internal sealed class OperationRunner
{
    private static readonly ResiliencePropertyKey<string> OperationProperty = new("kddata.storage.operation");
    private static readonly ResiliencePropertyKey<string?> KeyProperty = new("kddata.storage.key");

    private readonly ResiliencePipeline _pipeline;
    private readonly string _location;

    public OperationRunner(ResiliencePipeline pipeline, string location)
    {
        _pipeline = pipeline;
        _location = location;
    }

    /// <summary>
    /// Pipeline order, outermost first: retry (exponential backoff + jitter, transient failures only) →
    /// circuit breaker (optional; shared by everything that uses this pipeline, i.e. one Azure account) → per-attempt timeout.
    /// While the circuit is open, calls fail immediately with <see cref="BrokenCircuitException"/>, which is not retried.
    /// A breaker control, when given, lets the owner close the breaker once storage answers a direct call (<see cref="AzureDirectCalls"/>).
    /// </summary>
    public static ResiliencePipeline BuildPipeline(StorageOptions options, bool withCircuitBreaker, ILogger logger, CircuitBreakerManualControl? breakerControl = null)
    {
        var builder = new ResiliencePipelineBuilder();
        if (options.RetryMaxAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && TransientFailure.IsTransient(ex, args.Context.CancellationToken)),
                MaxRetryAttempts = options.RetryMaxAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                OnRetry = args =>
                {
                    logger.LogWarning(
                        "Storage operation {Operation} on {Key} failed ({Failure}); retry {Attempt} in {Delay}",
                        args.Context.Properties.GetValue(OperationProperty, "?"),
                        args.Context.Properties.GetValue(KeyProperty, null),
                        args.Outcome.Exception is { } ex ? TransientFailure.Describe(ex) : "?",
                        args.AttemptNumber + 1,
                        args.RetryDelay);
                    return default;
                },
            });
        }

        if (withCircuitBreaker && options.CircuitBreakerEnabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = static args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && TransientFailure.IsTransient(ex, args.Context.CancellationToken)),
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                ManualControl = breakerControl,
                OnClosed = _ =>
                {
                    logger.LogInformation("Storage circuit breaker closed");
                    return default;
                },
                OnOpened = args =>
                {
                    logger.LogError("Storage circuit breaker opened for {BreakDuration}", args.BreakDuration);
                    return default;
                },
            });
        }

        builder.AddTimeout(options.AttemptTimeout);
        return builder.Build();
    }

    public async Task<T> RunAsync<T>(string operation, string? key, Func<CancellationToken, ValueTask<T>> action, CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(operation, continueOnCapturedContext: false, cancellationToken);
        context.Properties.Set(OperationProperty, operation);
        context.Properties.Set(KeyProperty, key);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (ctx, state) => state(ctx.CancellationToken),
                context,
                action).ConfigureAwait(false);
        }
        catch (ObjectStoreException)
        {
            throw;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new StorageOperationException(operation, key, _location, TransientFailure.Describe(ex), ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
