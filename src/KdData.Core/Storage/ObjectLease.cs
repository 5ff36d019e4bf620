namespace KdData.Storage;

/// <summary>A lease held on one key (used for work claiming). Obtained from <see cref="IObjectStore.TryAcquireLeaseAsync"/>.</summary>
/// <param name="Key">The leased key.</param>
/// <param name="LeaseId">Identifier of this lease; only its holder can renew or release it.</param>
/// <param name="Duration">Duration requested at acquisition; each renewal extends the lease by this much.</param>
public sealed record ObjectLease(string Key, string LeaseId, TimeSpan Duration);
