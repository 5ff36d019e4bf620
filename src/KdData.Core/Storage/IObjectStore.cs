namespace KdData.Storage;

/// <summary>
/// Objects under one root (a local folder or an Azure container + prefix). Keys are relative to the root,
/// '/'-separated and validated (see <see cref="InvalidObjectKeyException"/>) identically on every backend.
/// Failures: <see cref="ObjectNotFoundException"/>, <see cref="ObjectAlreadyExistsException"/>,
/// <see cref="ObjectChangedException"/>, <see cref="LeaseLostException"/>, <see cref="StoreNotFoundException"/> describe the key's state and are
/// never retried; anything else surfaces as <see cref="StorageOperationException"/> after the retry budget.
/// Implementations are thread-safe.
/// </summary>
public interface IObjectStore
{
    /// <summary>The root of this store.</summary>
    StorageLocation Location { get; }

    /// <summary>
    /// One page of the objects whose key starts with <paramref name="prefix"/> ("" for all), in ordinal key order.
    /// Pass the returned continuation token to get the next page; null means done. A page may hold fewer items than
    /// <paramref name="pageSize"/> even when more follow. A prefix with no objects lists as empty, but a root that does not
    /// exist (an Azure container never created, a local root folder that is not there) throws <see cref="StoreNotFoundException"/>:
    /// a misspelt location must not read as "nothing to do". Any write creates the root.
    /// </summary>
    Task<ObjectPage> ListAsync(string prefix, int pageSize, string? continuationToken, CancellationToken cancellationToken = default);

    /// <summary>Opens the object for reading. Only opening is retried as a whole; the returned stream's reads are
    /// covered by the backend (the Azure SDK resumes broken downloads). Prefer <see cref="ReadAllBytesAsync"/> for small objects.</summary>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the object for random access: a seekable stream that reads ranges on demand (a Parquet footer, then the row
    /// groups wanted), so a large object is never downloaded whole. With <paramref name="expectedETag"/>, opening throws
    /// <see cref="ObjectChangedException"/> when the object is no longer that version (replaced or deleted, as for
    /// <see cref="ReplaceAsync"/>; without it a missing key is <see cref="ObjectNotFoundException"/>), and the stream reads that version
    /// only (on Azure a read after a replace fails; locally the open handle keeps the old file). Only opening is retried.
    /// </summary>
    Task<Stream> OpenRandomAccessAsync(string key, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Reads the whole object; the entire download is retried on transient failures.</summary>
    Task<byte[]> ReadAllBytesAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a new object; fails with <see cref="ObjectAlreadyExistsException"/> if the key exists. No partially written
    /// object is ever visible. <paramref name="content"/> must be seekable (it is rewound to its current position for a retry).
    /// Note: if a transient failure hides a successful write, the retry reports <see cref="ObjectAlreadyExistsException"/>;
    /// callers that know the bytes they meant to write use <see cref="IdempotentWrites.CreateOrConfirmAsync"/> instead.
    /// </summary>
    Task<ObjectInfo> CreateAsync(string key, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Replaces an object only if its current ETag equals <paramref name="expectedETag"/>; otherwise (including
    /// when the object was deleted) throws <see cref="ObjectChangedException"/>. Used for manifests.</summary>
    Task<ObjectInfo> ReplaceAsync(string key, Stream content, string expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Size, ETag and last-modified of one object; <see cref="ObjectNotFoundException"/> if missing.</summary>
    Task<ObjectInfo> GetPropertiesAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes the object; returns false if it did not exist.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tries to take an exclusive lease on <paramref name="key"/> for <paramref name="duration"/>. Returns null if another holder
    /// has an unexpired lease. If the key does not exist, an empty marker object is created first (create-only).
    /// Azure accepts 15-60 s or <see cref="Timeout.InfiniteTimeSpan"/>. On Azure a leased object also refuses writes and
    /// deletes without the lease; the local store treats leases as advisory.
    /// </summary>
    Task<ObjectLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends the lease by its duration; throws <see cref="LeaseLostException"/> if it was taken over, released or broken.
    /// An expired lease that nobody took since can be renewed (Azure's rule, followed by every store). A single request like
    /// <see cref="ProbeAsync"/>: no retries and no circuit breaker, so the caller renews on its own schedule.
    /// </summary>
    Task<ObjectLease> RenewLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the store answers now: one request, without the retries and the circuit breaker that the other operations
    /// go through, limited by <see cref="StorageOptions.ProbeTimeout"/>. Any answer counts, even "no such container".
    /// When it answers, the account's circuit breaker is closed, so the next operation goes through at once instead of
    /// failing fast for the rest of the break.
    /// </summary>
    Task<bool> ProbeAsync(CancellationToken cancellationToken = default);

    /// <summary>Releases the lease; returns false if it was no longer held by this lease id (taken over).</summary>
    Task<bool> ReleaseLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default);
}
