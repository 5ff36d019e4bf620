using System.Diagnostics;
using System.Runtime.CompilerServices;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace KdData.Labeling;

/// <summary>
/// Rides out a storage outage shorter than the lease. When an operation fails because storage could not be reached
/// (the retry budget ran out on transient failures, or the circuit breaker is open), the stage asks
/// <see cref="WaitUntilReachableAsync"/>: if the store answers at once, the stage tries again a bounded number of times
/// (storage may have come back while the operation's own retries ran out) and then handles the failure as before
/// (a fetch records the image as unreadable); otherwise the stage pauses, probing every few seconds (no busy retries), and carries
/// on when storage is back. Only when the lease may expire before storage returns does it give up, with
/// <see cref="LeaseLostException"/>, so the run stops without committing (another replica may own the partition by then).
/// </summary>
internal sealed class StorageOutage
{
    /// <summary>Time between probes while storage is unreachable.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    /// <summary>Stop pausing when the lease has less than this left: the commit fence needs the same margin.</summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often an operation is repeated when it failed as unreachable but storage answers the probe at once (it may
    /// have come back while the operation's own retries ran out), before the failure is taken as real.
    /// </summary>
    public const int RetriesWhileAnswering = 3;

    private readonly PartitionLease _lease;
    private readonly ILogger _logger;

    public StorageOutage(PartitionLease lease, ILogger logger)
    {
        _lease = lease;
        _logger = logger;
    }

    /// <summary>Whether <paramref name="exception"/> says storage could not be reached, rather than something about a key.</summary>
    public static bool IsUnreachable(Exception exception) =>
        exception is StorageOperationException { InnerException: { } inner }
        && (inner is BrokenCircuitException || TransientFailure.IsTransient(inner, CancellationToken.None));

    /// <summary>
    /// False at once when <paramref name="store"/> answers (storage is up: the caller may try again a bounded number of
    /// times, then treat the failure as real); true after pausing until it answers again.
    /// </summary>
    /// <exception cref="LeaseLostException">Storage stayed unreachable until the lease was about to expire.</exception>
    public async Task<bool> WaitUntilReachableAsync(IObjectStore store, string stage, CancellationToken cancellationToken = default)
    {
        if (await AnswersAsync(store, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var paused = Stopwatch.StartNew();
        _logger.LogWarning(
            "Storage {Location} is unreachable ({Stage}): pausing until it answers; the lease is known valid for {Seconds:F0} s more",
            store.Location, stage, _lease.Remaining.TotalSeconds);
        while (true)
        {
            if (_lease.Remaining < LeaseMargin)
            {
                throw new LeaseLostException(
                    $"Storage {store.Location} has been unreachable for {paused.Elapsed.TotalSeconds:F0} s and the partition lease may expire: stopping without committing (a rerun continues from the last commit).");
            }

            await Task.Delay(ProbeInterval, cancellationToken).ConfigureAwait(false);
            if (await AnswersAsync(store, cancellationToken).ConfigureAwait(false))
            {
                _logger.LogInformation("Storage {Location} answers again after {Seconds:F1} s; resuming ({Stage})", store.Location, paused.Elapsed.TotalSeconds, stage);
                return true;
            }
        }
    }

    /// <summary>The input's keys page by page; a page that fails because storage is unreachable is asked again once it answers.</summary>
    public async IAsyncEnumerable<ObjectInfo> ListAsync(IObjectStore input, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        var retriesWhileAnswering = 0;
        while (true)
        {
            ObjectPage page;
            try
            {
                page = await input.ListAsync(string.Empty, pageSize, token, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageOperationException e) when (IsUnreachable(e))
            {
                // Storage may have come back while the operation's own retries ran out: then ask again, a few times.
                if (!await WaitUntilReachableAsync(input, "list", cancellationToken).ConfigureAwait(false) && ++retriesWhileAnswering > RetriesWhileAnswering)
                {
                    throw;
                }

                continue;
            }

            retriesWhileAnswering = 0;

            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = page.ContinuationToken;
            if (token is null)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// An image's bytes, or an error row. An image that was merely unreachable during an outage is fetched again once
    /// storage answers; one that fails while storage answers is recorded as <see cref="LabelingRun.UnreadableReason"/> (retried next run).
    /// </summary>
    public async Task<FetchedImage> FetchAsync(IObjectStore input, ObjectInfo item, CancellationToken cancellationToken = default)
    {
        var retriesWhileAnswering = 0;
        while (true)
        {
            try
            {
                return new FetchedImage(item, await input.ReadAllBytesAsync(item.Key, cancellationToken).ConfigureAwait(false), null);
            }
            catch (ObjectNotFoundException)
            {
                return new FetchedImage(item, null, PreparedImage.FailureRow(item, "fetch", "missing", "listed but gone before it was read"));
            }
            catch (StorageOperationException e)
            {
                // Storage may have come back while the read's own retries ran out: then read once more before blaming the image.
                if (IsUnreachable(e)
                    && (await WaitUntilReachableAsync(input, "fetch", cancellationToken).ConfigureAwait(false) || ++retriesWhileAnswering <= 1))
                {
                    continue;
                }

                // Already retried by the resilience pipeline: record it and go on.
                return new FetchedImage(item, null, PreparedImage.FailureRow(item, "fetch", LabelingRun.UnreadableReason, e.Message));
            }
        }
    }

    /// <summary>Commits, pausing while storage is unreachable: a commit is safe to repeat (idempotent shard writes, a manifest write confirmed by its bytes).</summary>
    public async Task CommitAsync(ShardCommitter committer, IObjectStore output)
    {
        var retriesWhileAnswering = 0;
        while (true)
        {
            try
            {
                await committer.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (StorageOperationException e) when (IsUnreachable(e))
            {
                if (!await WaitUntilReachableAsync(output, "commit", CancellationToken.None).ConfigureAwait(false) && ++retriesWhileAnswering > RetriesWhileAnswering)
                {
                    throw;
                }
            }
        }
    }

    private static async Task<bool> AnswersAsync(IObjectStore store, CancellationToken cancellationToken)
    {
        try
        {
            await store.ListAsync(string.Empty, 1, null, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (StoreNotFoundException)
        {
            return true; // an answer all the same
        }
        catch (StorageOperationException e) when (IsUnreachable(e))
        {
            return false;
        }
    }
}
