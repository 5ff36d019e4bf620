using KdData.Dataflow;
using KdData.Storage;
using Microsoft.Extensions.Logging;

namespace KdData.Labeling;

/// <summary>
/// Keeps a partition's lease for the length of a run: acquires it (waiting up to <see cref="LabelingOptions.LeaseWait"/>
/// for a holder that may have been killed and whose lease has yet to expire), renews it every sixth of its duration
/// while the run works (and after a storage outage), and releases it at the end so the next run need not wait for it to expire.
/// Every wait and every reading of the clock goes through the <see cref="TimeProvider"/> it is given (the system clock in
/// production, a fake one in tests).
/// </summary>
internal sealed class LeaseKeeper
{
    /// <summary>How long each acquire or renewal holds the lease (Azure allows 15-60 s).</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often the lease is renewed while the run works: a sixth of its duration, so that after the last renewal before
    /// an outage 50 s are left, and an outage of 40 s that begins just before a renewal ends with 10 s still to spare.
    /// </summary>
    public static readonly TimeSpan RenewInterval = Duration / 6;

    /// <summary>How long <see cref="AcquireAsync"/> waits before asking again for a lease held by another.</summary>
    public static readonly TimeSpan AcquireRetryInterval = TimeSpan.FromSeconds(5);

    private readonly IObjectStore _output;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    private LeaseKeeper(IObjectStore output, PartitionLease lease, ILogger logger, TimeProvider time)
    {
        _output = output;
        Lease = lease;
        _logger = logger;
        _time = time;
    }

    public PartitionLease Lease { get; }

    /// <exception cref="PartitionBusyException">Another holder kept the lease for longer than <paramref name="wait"/>.</exception>
    public static async Task<LeaseKeeper> AcquireAsync(IObjectStore output, PartitionLayout layout, string teacherId, TimeSpan wait, ILogger logger, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            if (await output.TryAcquireLeaseAsync(layout.LeaseKey, Duration, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return new LeaseKeeper(output, new PartitionLease(lease, Duration, time), logger, time);
            }

            // Held: by a live replica, or by one that was killed and whose lease has not expired yet.
            var waited = time.GetElapsedTime(started);
            if (waited >= wait)
            {
                throw new PartitionBusyException(
                    $"Partition {layout.Tag} of teacher {teacherId} in {output.Location} is being labeled by another replica (its lease is still held after {wait.TotalSeconds:F0} s).");
            }

            if (waited < TimeSpan.FromSeconds(1) && wait > TimeSpan.Zero)
            {
                logger.LogWarning("Partition {Partition}'s lease is held; waiting up to {Seconds:F0} s for it", layout.Tag, wait.TotalSeconds);
            }

            await Task.Delay(AcquireRetryInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Renews every <see cref="RenewInterval"/> until <paramref name="cancellationToken"/> ends the run. While storage is
    /// unreachable it tries every <see cref="StorageOutage.ProbeInterval"/>, also past the lease's expiry: an expired lease
    /// that no other replica took can still be renewed. A lease taken over, or storage silent for longer than
    /// <paramref name="outageLimit"/>, faults <paramref name="run"/> (the "lease" stage), which stops it without committing.
    /// </summary>
    public async Task RenewAsync(StagedRun run, TimeSpan outageLimit, CancellationToken cancellationToken = default)
    {
        try
        {
            var delay = RenewInterval;
            long? unreachableSince = null;
            var failures = 0;
            while (true)
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                try
                {
                    await RenewNowAsync(cancellationToken).ConfigureAwait(false);
                    if (unreachableSince is { } since)
                    {
                        _logger.LogInformation("Renewed the partition lease again after {Seconds:F1} s without storage", _time.GetElapsedTime(since).TotalSeconds);
                    }

                    unreachableSince = null;
                    failures = 0;
                    delay = RenewInterval;
                }
                catch (StorageOperationException e) when (StorageOutage.IsUnreachable(e))
                {
                    unreachableSince ??= _time.GetTimestamp();
                    var silent = _time.GetElapsedTime(unreachableSince.Value);
                    if (silent > outageLimit)
                    {
                        throw new StorageUnreachableException(
                            $"Could not renew the partition lease for {silent.TotalSeconds:F0} s (Labeler:OutageLimit is {outageLimit.TotalSeconds:F0} s): stopping without committing (a rerun continues from the last commit).", e);
                    }

                    // Every failure would be a line every 2 s; the first and then every tenth say enough.
                    if (failures++ % 10 == 0)
                    {
                        _logger.LogWarning(
                            "Could not renew the partition lease ({Message}); known valid for {Seconds:F0} s more, trying again every {Interval} s",
                            e.Message, Lease.Remaining.TotalSeconds, StorageOutage.ProbeInterval.TotalSeconds);
                    }

                    delay = StorageOutage.ProbeInterval;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (ObjectStoreException e)
        {
            // Without the lease another replica may take the partition: stop before committing anything more.
            run.RecordFault("lease", e);
        }
    }

    /// <summary>Renews the lease now (one request).</summary>
    /// <exception cref="LeaseLostException">Another replica took the partition, or the lease was released or broken.</exception>
    /// <exception cref="StorageOperationException">Storage did not answer.</exception>
    public async Task RenewNowAsync(CancellationToken cancellationToken = default)
    {
        var requestedAt = _time.GetTimestamp();
        Lease.Renewed(await _output.RenewLeaseAsync(Lease.Current, cancellationToken).ConfigureAwait(false), requestedAt);
        _logger.LogDebug("Partition lease renewed");
    }

    /// <summary>Releases the lease; a failure is logged, not thrown (the lease expires by itself).</summary>
    public async Task ReleaseAsync()
    {
        try
        {
            await _output.ReleaseLeaseAsync(Lease.Current, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ObjectStoreException e)
        {
            _logger.LogWarning("Could not release the partition lease ({Message}); it expires by itself in {Seconds} s", e.Message, Duration.TotalSeconds);
        }
    }
}
