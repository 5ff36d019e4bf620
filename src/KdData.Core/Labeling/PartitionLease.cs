using System.Diagnostics;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>
/// The lease on a partition and how long it is known to be valid, measured on this process's clock
/// from the moment each acquire/renew call was made (so it never overestimates).
/// </summary>
internal sealed class PartitionLease
{
    private readonly TimeSpan _duration;
    private readonly Lock _gate = new();
    private ObjectLease _current;
    private long _validFrom;

    public PartitionLease(ObjectLease lease, TimeSpan duration)
    {
        _current = lease;
        _duration = duration;
        _validFrom = Stopwatch.GetTimestamp();
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

    /// <summary>Records a successful renewal (called right after it returns; the request started earlier, so this is conservative only up to the call's latency).</summary>
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
                return _duration - Stopwatch.GetElapsedTime(_validFrom);
            }
        }
    }

    /// <summary>Throws <see cref="LeaseLostException"/> unless the lease stays valid for at least <paramref name="margin"/>.</summary>
    public void EnsureValidFor(TimeSpan margin)
    {
        lock (_gate)
        {
            var remaining = _duration - Stopwatch.GetElapsedTime(_validFrom);
            if (remaining < margin)
            {
                throw new LeaseLostException($"The lease on '{_current.Key}' may have expired ({remaining.TotalSeconds:F1} s left); refusing to commit.");
            }
        }
    }
}
