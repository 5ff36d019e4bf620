using KdData.Storage;

namespace KdData.Labeling;

/// <summary>
/// The lease on a partition and how long it is known to be valid, measured on this process's clock
/// (<see cref="TimeProvider"/>'s timestamps) from the moment each acquire/renew call was made (so it never overestimates).
/// </summary>
internal sealed class PartitionLease
{
    private readonly TimeSpan _duration;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private ObjectLease _current;
    private long _validFrom;

    /// <param name="lease">The lease just acquired.</param>
    /// <param name="duration">How long each acquire or renewal holds it.</param>
    /// <param name="time">The clock; <see cref="Renewed"/> takes timestamps of the same clock.</param>
    public PartitionLease(ObjectLease lease, TimeSpan duration, TimeProvider time)
    {
        _current = lease;
        _duration = duration;
        _time = time;
        _validFrom = time.GetTimestamp();
    }

    public ObjectLease Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// Records a successful renewal (called right after it returns; the request started earlier, so this is conservative only up to the call's latency).
    /// <paramref name="requestedAt"/> is a timestamp of the lease's <see cref="TimeProvider"/>.
    /// </summary>
    public void Renewed(ObjectLease lease, long requestedAt)
    {
        lock (_gate)
        {
            _current = lease;
            // Renewals may overlap (the keeper's and one after an outage): a late answer to an older request must not shorten it.
            _validFrom = Math.Max(_validFrom, requestedAt);
        }
    }

    /// <summary>How long the lease is known to stay valid (negative once it may have expired).</summary>
    public TimeSpan Remaining
    {
        get
        {
            lock (_gate)
            {
                return _duration - _time.GetElapsedTime(_validFrom);
            }
        }
    }

    /// <summary>Throws <see cref="LeaseLostException"/> unless the lease stays valid for at least <paramref name="margin"/>.</summary>
    public void EnsureValidFor(TimeSpan margin)
    {
        lock (_gate)
        {
            var remaining = _duration - _time.GetElapsedTime(_validFrom);
            if (remaining < margin)
            {
                throw new LeaseLostException($"The lease on '{_current.Key}' may have expired ({remaining.TotalSeconds:F1} s left); refusing to commit.");
            }
        }
    }
}
