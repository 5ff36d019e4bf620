using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace KdData.Storage;

/// <summary>
/// <see cref="IObjectStore"/> over one blob container and prefix. Create-only uses <c>If-None-Match: *</c>,
/// conditional replace uses <c>If-Match: etag</c>, leases are blob leases (an empty marker blob is created
/// for a key that does not exist yet). A missing container is created on the first create-only write; listing a
/// missing container throws <see cref="StoreNotFoundException"/>. Failures are told apart by the service's error code
/// (<see cref="BlobErrorCode"/>), not by HTTP status alone: 404, 409 and 412 each cover several different conditions.
/// </summary>
internal sealed class AzureBlobObjectStore : IObjectStore
{
    private static readonly TimeSpan MinLease = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan MaxLease = TimeSpan.FromSeconds(60);

    private readonly BlobContainerClient _container;
    private readonly string _prefix;
    private readonly string _display;
    private readonly OperationRunner _runner;
    private readonly AzureDirectCalls _direct;
    private readonly BlobContainerClient _directContainer;
    private readonly OperationRunner _directRunner;

    public AzureBlobObjectStore(StorageLocation location, BlobContainerClient container, OperationRunner runner, AzureDirectCalls direct)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(direct);
        Location = location;
        _container = container;
        _prefix = location.Prefix;
        _display = location.ToString();
        _runner = runner;
        _direct = direct;
        _directContainer = direct.Client.GetBlobContainerClient(container.Name);
        _directRunner = new OperationRunner(direct.Pipeline, _display);
    }

    public StorageLocation Location { get; }

    public Task<ObjectPage> ListAsync(string prefix, int pageSize, string? continuationToken, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 5000);
        return _runner.RunAsync("List", prefix, async ct =>
        {
            try
            {
                var options = new GetBlobsOptions { Prefix = _prefix + prefix };
                await foreach (Page<BlobItem> page in _container.GetBlobsAsync(options, ct).AsPages(continuationToken, pageSize).ConfigureAwait(false))
                {
                    var items = new List<ObjectInfo>(page.Values.Count);
                    foreach (BlobItem blob in page.Values)
                    {
                        items.Add(new ObjectInfo(
                            blob.Name[_prefix.Length..],
                            blob.Properties.ContentLength ?? 0,
                            blob.Properties.ETag is { } etag ? Quoted(etag) : string.Empty,
                            blob.Properties.LastModified ?? DateTimeOffset.MinValue));
                    }

                    return new ObjectPage(items, string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
                }

                return new ObjectPage([], null);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.ContainerNotFound))
            {
                // Not an empty listing: see IObjectStore.ListAsync. Any other 404 (a wrong account or path) is a failure too.
                throw new StoreNotFoundException(_display, $"no container '{_container.Name}'", ex);
            }
        }, cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        return _runner.RunAsync("OpenRead", key, async _ =>
        {
            try
            {
                // The caller's token, not the attempt's: the returned stream outlives this attempt and the SDK
                // uses the token again when it resumes a broken download.
                Response<BlobDownloadStreamingResult> response =
                    await blob.DownloadStreamingAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                return response.Value.Content;
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<Stream> OpenRandomAccessAsync(string key, string? expectedETag, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        return _runner.RunAsync("OpenRandomAccess", key, async _ =>
        {
            try
            {
                // Pinned to one version: with no ETag given, the SDK pins the one it finds at open. Ranged reads of 4 MiB;
                // the caller's token, as for OpenReadAsync, because the stream outlives this attempt.
                var options = new BlobOpenReadOptions(allowModifications: false)
                {
                    Conditions = expectedETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(expectedETag) },
                };
                return await blob.OpenReadAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound) || (ex.Status == 404 && string.IsNullOrEmpty(ex.ErrorCode)))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                throw new ObjectChangedException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<byte[]> ReadAllBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        return _runner.RunAsync("ReadAllBytes", key, async ct =>
        {
            try
            {
                Response<BlobDownloadResult> response = await blob.DownloadContentAsync(ct).ConfigureAwait(false);
                return response.Value.Content.ToArray();
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<ObjectInfo> CreateAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        long start = StartOf(content);
        return _runner.RunAsync("Create", key, async ct =>
        {
            try
            {
                BlobContentInfo info = await UploadCreateOnlyAsync(blob, content, start, ct).ConfigureAwait(false);
                return new ObjectInfo(key, content.Length - start, Quoted(info.ETag), info.LastModified);
            }
            catch (RequestFailedException ex) when (IsExisting(ex))
            {
                throw new ObjectAlreadyExistsException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<ObjectInfo> ReplaceAsync(string key, Stream content, string expectedETag, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        long start = StartOf(content);
        ArgumentException.ThrowIfNullOrEmpty(expectedETag);
        return _runner.RunAsync("Replace", key, async ct =>
        {
            content.Position = start;
            var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = new ETag(expectedETag) } };
            try
            {
                Response<BlobContentInfo> response = await blob.UploadAsync(content, options, ct).ConfigureAwait(false);
                return new ObjectInfo(key, content.Length - start, Quoted(response.Value.ETag), response.Value.LastModified);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.LeaseIdMissing))
            {
                throw new StorageOperationException("Replace", key, _display, "the object is leased; leased blobs refuse writes", ex);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.ConditionNotMet, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
            {
                throw new ObjectChangedException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<ObjectInfo> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        return _runner.RunAsync("GetProperties", key, async ct =>
        {
            try
            {
                Response<BlobProperties> response = await blob.GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false);
                return new ObjectInfo(key, response.Value.ContentLength, Quoted(response.Value.ETag), response.Value.LastModified);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        return _runner.RunAsync("Delete", key, async ct =>
        {
            try
            {
                Response<bool> response = await blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct).ConfigureAwait(false);
                return response.Value;
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.LeaseIdMissing))
            {
                throw new StorageOperationException("Delete", key, _display, "the object is leased; leased blobs refuse deletes", ex);
            }
            catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
            {
                return false;
            }
        }, cancellationToken);
    }

    public Task<ObjectLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        BlobClient blob = BlobOf(key);
        if (duration != Timeout.InfiniteTimeSpan && (duration < MinLease || duration > MaxLease))
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "Azure blob leases last 15 to 60 seconds, or are infinite.");
        }

        // Chosen once, outside the retried callback: re-acquiring with the same id is idempotent, so a retry
        // after a lost response does not lock us out of our own lease.
        string leaseId = Guid.NewGuid().ToString("D");
        return _runner.RunAsync("AcquireLease", key, async ct =>
        {
            BlobLeaseClient leaseClient = blob.GetBlobLeaseClient(leaseId);
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    await leaseClient.AcquireAsync(duration, cancellationToken: ct).ConfigureAwait(false);
                    return new ObjectLease(key, leaseId, duration);
                }
                catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.LeaseAlreadyPresent))
                {
                    return null; // someone else holds it
                }
                catch (RequestFailedException ex) when (attempt == 0 && Is(ex, BlobErrorCode.BlobNotFound, BlobErrorCode.ContainerNotFound))
                {
                    await CreateMarkerAsync(blob, ct).ConfigureAwait(false);
                }
            }
        }, cancellationToken);
    }

    public Task<ObjectLease> RenewLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ObjectKey.Validate(lease.Key);
        BlobClient blob = _directContainer.GetBlobClient(_prefix + lease.Key);
        return _directRunner.RunAsync("RenewLease", lease.Key, async ct =>
        {
            try
            {
                await blob.GetBlobLeaseClient(lease.LeaseId).RenewAsync(cancellationToken: ct).ConfigureAwait(false);
                await _direct.StorageAnsweredAsync(ct).ConfigureAwait(false);
                return lease;
            }
            catch (RequestFailedException ex) when (IsLeaseGone(ex))
            {
                throw new LeaseLostException(lease.Key, _display, ex);
            }
        }, cancellationToken);
    }

    public async Task<bool> ProbeAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_direct.Timeout);
        try
        {
            await _directContainer.ExistsAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (!TransientFailure.IsTransient(ex, cancellationToken))
        {
            // 401, 403 and the like are answers all the same: the service is up.
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // No answer, a timeout, a 5xx, or a credential that could not get a token: not back yet. A probe never
            // fails a run by itself; a store that stays silent ends it at the caller's limit.
            return false;
        }

        await _direct.StorageAnsweredAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public Task<bool> ReleaseLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        BlobClient blob = BlobOf(lease.Key);
        return _runner.RunAsync("ReleaseLease", lease.Key, async ct =>
        {
            try
            {
                await blob.GetBlobLeaseClient(lease.LeaseId).ReleaseAsync(cancellationToken: ct).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException ex) when (IsLeaseGone(ex))
            {
                return false;
            }
        }, cancellationToken);
    }

    /// <summary>Whether the service's error code (not just the HTTP status, which several conditions share) is one of <paramref name="codes"/>.</summary>
    private static bool Is(RequestFailedException ex, params ReadOnlySpan<BlobErrorCode> codes)
    {
        if (ex.ErrorCode is not { Length: > 0 } reported)
        {
            return false;
        }

        var code = new BlobErrorCode(reported);
        foreach (var candidate in codes)
        {
            if (candidate == code)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A create-only write found the key taken: <c>If-None-Match: *</c> fails with BlobAlreadyExists (or ConditionNotMet),
    /// and a leased blob, which necessarily exists, refuses the write with LeaseIdMissing.
    /// </summary>
    private static bool IsExisting(RequestFailedException ex) =>
        Is(ex, BlobErrorCode.BlobAlreadyExists, BlobErrorCode.ConditionNotMet, BlobErrorCode.LeaseIdMissing);

    /// <summary>The lease is no longer ours: expired and taken (id mismatch), expired or released (not present), broken, or its blob is gone.</summary>
    private static bool IsLeaseGone(RequestFailedException ex) =>
        Is(ex,
            BlobErrorCode.LeaseIdMismatchWithLeaseOperation,
            BlobErrorCode.LeaseNotPresentWithLeaseOperation,
            BlobErrorCode.LeaseIsBrokenAndCannotBeRenewed,
            BlobErrorCode.LeaseLost,
            BlobErrorCode.BlobNotFound,
            BlobErrorCode.ContainerNotFound);

    /// <summary>Listings return ETags without quotes, response headers with them; use the header form everywhere.</summary>
    private static string Quoted(ETag etag)
    {
        string value = etag.ToString();
        return value.StartsWith('"') || value.StartsWith("W/", StringComparison.Ordinal) ? value : $"\"{value}\"";
    }

    private BlobClient BlobOf(string key)
    {
        ObjectKey.Validate(key);
        return _container.GetBlobClient(_prefix + key);
    }

    private static long StartOf(Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek)
        {
            throw new ArgumentException("The content stream must be seekable so a failed write can be retried; buffer it first.", nameof(content));
        }

        return content.Position;
    }

    /// <summary>Create-only upload; creates the container once if it does not exist yet.</summary>
    private async Task<BlobContentInfo> UploadCreateOnlyAsync(BlobClient blob, Stream content, long start, CancellationToken cancellationToken)
    {
        var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
        content.Position = start;
        try
        {
            return (await blob.UploadAsync(content, options, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (Is(ex, BlobErrorCode.ContainerNotFound))
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            content.Position = start;
            return (await blob.UploadAsync(content, options, cancellationToken).ConfigureAwait(false)).Value;
        }
    }

    private async Task CreateMarkerAsync(BlobClient blob, CancellationToken cancellationToken)
    {
        using var empty = new MemoryStream([], writable: false);
        try
        {
            await UploadCreateOnlyAsync(blob, empty, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsExisting(ex))
        {
            // Created concurrently by another worker; acquiring the lease decides who wins.
        }
    }
}
