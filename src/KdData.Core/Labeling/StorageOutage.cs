using System.Runtime.CompilerServices;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace KdData.Labeling;

/// <summary>
/// Rides out a storage outage. When an operation fails because storage could not be reached (the retry budget ran out on
/// transient failures, or the circuit breaker is open), the stage asks <see cref="WaitUntilReachableAsync"/>. It probes with
/// one direct request (<see cref="IObjectStore.ProbeAsync"/>: no retries, no breaker, which it closes on an answer). If the
/// store answers, the stage tries again a bounded number of times and then handles the failure as before (a fetch records
/// the image as unreadable); otherwise the stage pauses, probing every <see cref="ProbeInterval"/> (no busy retries), and
/// carries on within one probe of storage answering again. Before it carries on, a lease with less than
/// <see cref="LeaseMargin"/> left is renewed: that works when no other replica took the partition meanwhile, and otherwise
/// fails with <see cref="LeaseLostException"/>, which stops the run without committing. Only storage silent for longer than
/// <see cref="LabelingOptions.OutageLimit"/> ends the run with <see cref="StorageUnreachableException"/>. The pause and the
/// time since storage went silent are on the <see cref="TimeProvider"/> it is given (the lease keeper's).
/// </summary>
internal sealed class StorageOutage
{
    /// <summary>Time between probes while storage is unreachable.</summary>
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    /// <summary>A lease with less than this left is renewed before work resumes: the commit fence asks for the same margin.</summary>
    public static readonly TimeSpan LeaseMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often an operation is repeated when it failed as unreachable but storage answers the probe at once (it may
    /// have come back while the operation's own retries ran out), before the failure is taken as real.
    /// </summary>
    public const int RetriesWhileAnswering = 3;

    private readonly LeaseKeeper _lease;
    private readonly TimeSpan _outageLimit;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public StorageOutage(LeaseKeeper lease, TimeSpan outageLimit, ILogger logger, TimeProvider time)
    {
        _lease = lease;
        _outageLimit = outageLimit;
        _logger = logger;
        _time = time;
    }

    /// <summary>Whether <paramref name="exception"/> says storage could not be reached, rather than something about a key.</summary>
    public static bool IsUnreachable(Exception exception) =>
        exception is StorageOperationException { InnerException: { } inner }
        && (inner is BrokenCircuitException || TransientFailure.IsTransient(inner, CancellationToken.None));

    /// <summary>
    /// False at once when <paramref name="store"/> answers (storage is up: the caller may try again a bounded number of
    /// times, then treat the failure as real); true after pausing until it answers again.
    /// </summary>
    /// <exception cref="StorageUnreachableException">Storage stayed silent for longer than <see cref="LabelingOptions.OutageLimit"/>.</exception>
    /// <exception cref="LeaseLostException">Storage is back, but another replica took the partition meanwhile.</exception>
    public async Task<bool> WaitUntilReachableAsync(IObjectStore store, string stage, CancellationToken cancellationToken = default)
    {
        if (await store.ProbeAsync(cancellationToken).ConfigureAwait(false))
        {
            await RenewIfShortAsync(stage, cancellationToken).ConfigureAwait(false);
            return false;
        }

        var pausedAt = _time.GetTimestamp();
        _logger.LogWarning(
            "Storage {Location} is unreachable ({Stage}): pausing until it answers, for up to {Limit:F0} s; the lease is known valid for {Seconds:F0} s more",
            store.Location, stage, _outageLimit.TotalSeconds, _lease.Lease.Remaining.TotalSeconds);
        while (true)
        {
            var paused = _time.GetElapsedTime(pausedAt);
            if (paused > _outageLimit)
            {
                throw new StorageUnreachableException(
                    $"Storage {store.Location} has been unreachable for {paused.TotalSeconds:F0} s (Labeler:OutageLimit is {_outageLimit.TotalSeconds:F0} s): stopping without committing (a rerun continues from the last commit).");
            }

            await Task.Delay(ProbeInterval, _time, cancellationToken).ConfigureAwait(false);
            if (await store.ProbeAsync(cancellationToken).ConfigureAwait(false))
            {
                _logger.LogInformation("Storage {Location} answers again after {Seconds:F1} s; resuming ({Stage})", store.Location, _time.GetElapsedTime(pausedAt).TotalSeconds, stage);
                await RenewIfShortAsync(stage, cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    /// <summary>
    /// Renews the lease when less than <see cref="LeaseMargin"/> of it is left (after an outage that outlasted the
    /// keeper's renewals). Storage failing again is left to the next failed operation and the keeper.
    /// </summary>
    private async Task RenewIfShortAsync(string stage, CancellationToken cancellationToken)
    {
        if (_lease.Lease.Remaining >= LeaseMargin)
        {
            return;
        }

        try
        {
            await _lease.RenewNowAsync(cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Renewed the partition lease after the outage ({Stage})", stage);
        }
        catch (StorageOperationException e) when (IsUnreachable(e))
        {
            // Gone again: the stage's next failure pauses it again.
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
                await RenewIfShortAsync("commit", CancellationToken.None).ConfigureAwait(false);
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
}
