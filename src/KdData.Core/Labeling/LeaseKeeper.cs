using System.Diagnostics;
using KdData.Pipelines;
using KdData.Storage;
using Microsoft.Extensions.Logging;

namespace KdData.Labeling;

/// <summary>
/// Keeps a partition's lease for the length of a run: acquires it (waiting up to <see cref="LabelingOptions.LeaseWait"/>
/// for a holder that may have been killed and whose lease has yet to expire), renews it every third of its duration
/// while the run works, and releases it at the end so the next run need not wait for it to expire.
/// </summary>
internal sealed class LeaseKeeper
{
    /// <summary>How long each acquire or renewal holds the lease (Azure allows 15-60 s).</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    private readonly IObjectStore _output;
    private readonly ILogger _logger;

    private LeaseKeeper(IObjectStore output, PartitionLease lease, ILogger logger)
    {
        _output = output;
        Lease = lease;
        _logger = logger;
    }

    public PartitionLease Lease { get; }

    /// <exception cref="PartitionBusyException">Another holder kept the lease for longer than <paramref name="wait"/>.</exception>
    public static async Task<LeaseKeeper> AcquireAsync(IObjectStore output, PartitionLayout layout, string teacherId, TimeSpan wait, ILogger logger, CancellationToken cancellationToken = default)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (await output.TryAcquireLeaseAsync(layout.LeaseKey, Duration, cancellationToken).ConfigureAwait(false) is { } lease)
            {
                return new LeaseKeeper(output, new PartitionLease(lease, Duration), logger);
            }

            // Held: by a live replica, or by one that was killed and whose lease has not expired yet.
            if (waited.Elapsed >= wait)
            {
                throw new PartitionBusyException(
                    $"Partition {layout.Tag} of teacher {teacherId} in {output.Location} is being labeled by another replica (its lease is still held after {wait.TotalSeconds:F0} s).");
            }

            if (waited.Elapsed < TimeSpan.FromSeconds(1) && wait > TimeSpan.Zero)
            {
                logger.LogWarning("Partition {Partition}'s lease is held; waiting up to {Seconds:F0} s for it", layout.Tag, wait.TotalSeconds);
            }

            await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Renews until <paramref name="cancellationToken"/> ends the run. While storage is unreachable it keeps trying
    /// (every <see cref="StorageOutage.ProbeInterval"/>) for as long as the lease is known to be valid; a lease taken
    /// over, or one that may have expired, faults <paramref name="run"/> (the "lease" stage).
    /// </summary>
    public async Task RenewAsync(PipelineRun run, CancellationToken cancellationToken = default)
    {
        try
        {
            var delay = Duration / 3;
            while (true)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                var requestedAt = Stopwatch.GetTimestamp();
                try
                {
                    Lease.Renewed(await _output.RenewLeaseAsync(Lease.Current, cancellationToken).ConfigureAwait(false), requestedAt);
                    delay = Duration / 3;
                }
                catch (StorageOperationException e) when (StorageOutage.IsUnreachable(e) && Lease.Remaining > TimeSpan.Zero)
                {
                    _logger.LogWarning("Could not renew the partition lease ({Message}); still valid for {Seconds:F0} s, trying again", e.Message, Lease.Remaining.TotalSeconds);
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
