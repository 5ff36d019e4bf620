using KdData.Storage;

namespace KdData.Tests.Fixtures;

/// <summary>
/// A store that can be cut off, as storage is during an outage: while <see cref="Reachable"/> is false, every operation fails
/// as one whose retries ran out on transient failures (a <see cref="StorageOperationException"/> over an <see cref="IOException"/>)
/// and <see cref="ProbeAsync"/> answers false. Otherwise it passes everything to the store it wraps. Counts probes and renewals.
/// </summary>
public sealed class OutageStore(IObjectStore inner) : IObjectStore
{
    private int _probes;
    private int _renewals;
    private int _renewalsFailed;

    /// <summary>Whether storage answers; true at first.</summary>
    public bool Reachable { get; set; } = true;

    /// <summary>Probes asked, answered or not.</summary>
    public int Probes => Volatile.Read(ref _probes);

    /// <summary>Lease renewals that went through.</summary>
    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Lease renewals that failed because storage was cut off.</summary>
    public int RenewalsFailed => Volatile.Read(ref _renewalsFailed);

    public StorageLocation Location => inner.Location;

    public Task<ObjectPage> ListAsync(string prefix, int pageSize, string? continuationToken, CancellationToken cancellationToken = default) =>
        Up("List", prefix).ListAsync(prefix, pageSize, continuationToken, cancellationToken);

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default) =>
        Up("OpenRead", key).OpenReadAsync(key, cancellationToken);

    public Task<Stream> OpenRandomAccessAsync(string key, string? expectedETag, CancellationToken cancellationToken = default) =>
        Up("OpenRandomAccess", key).OpenRandomAccessAsync(key, expectedETag, cancellationToken);

    public Task<byte[]> ReadAllBytesAsync(string key, CancellationToken cancellationToken = default) =>
        Up("ReadAllBytes", key).ReadAllBytesAsync(key, cancellationToken);

    public Task<ObjectInfo> CreateAsync(string key, Stream content, CancellationToken cancellationToken = default) =>
        Up("Create", key).CreateAsync(key, content, cancellationToken);

    public Task<ObjectInfo> ReplaceAsync(string key, Stream content, string expectedETag, CancellationToken cancellationToken = default) =>
        Up("Replace", key).ReplaceAsync(key, content, expectedETag, cancellationToken);

    public Task<ObjectInfo> GetPropertiesAsync(string key, CancellationToken cancellationToken = default) =>
        Up("GetProperties", key).GetPropertiesAsync(key, cancellationToken);

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        Up("Delete", key).DeleteAsync(key, cancellationToken);

    public Task<ObjectLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken = default) =>
        Up("AcquireLease", key).TryAcquireLeaseAsync(key, duration, cancellationToken);

    public async Task<ObjectLease> RenewLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (!Reachable)
        {
            Interlocked.Increment(ref _renewalsFailed);
        }

        var renewed = await Up("RenewLease", lease.Key).RenewLeaseAsync(lease, cancellationToken);
        Interlocked.Increment(ref _renewals);
        return renewed;
    }

    public Task<bool> ProbeAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _probes);
        return Reachable ? inner.ProbeAsync(cancellationToken) : Task.FromResult(false);
    }

    public Task<bool> ReleaseLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Up("ReleaseLease", lease.Key).ReleaseLeaseAsync(lease, cancellationToken);
    }

    private IObjectStore Up(string operation, string? key) =>
        Reachable
            ? inner
            : throw new StorageOperationException(operation, key, Location.ToString(), "the service could not be reached (cut off by the test)", new IOException("connection refused"));
}
