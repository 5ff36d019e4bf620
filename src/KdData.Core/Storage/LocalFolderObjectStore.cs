using System.Diagnostics;

namespace KdData.Storage;

/// <summary>
/// <see cref="IObjectStore"/> over a local (or mounted) folder. Object "a/b.bin" is the file <c>root/a/b.bin</c>;
/// the store's own files live in a <c>.kddata</c> folder next to the objects of each folder (never listed):
/// temp files (<c>name.guid.tmp</c>), one write lock per folder (<c>folder.lock</c>) and lease files (<c>name.lease</c>).
/// <list type="bullet">
/// <item>Writes go to a temp file first and are renamed into place, so a partially written object is never visible
/// (<see cref="LocalFolderTempFile"/>).</item>
/// <item>The existence/ETag check and the rename happen under the folder lock (an exclusive <see cref="FileShare.None"/> open,
/// i.e. flock on Unix; <see cref="LocalFolderLock"/>), which makes create-only and conditional replace atomic for all writers
/// on this machine that use this store.</item>
/// <item>ETag = last-write time (100 ns ticks) + size (<see cref="LocalFolderETag"/>). A replace stamps the new file strictly later
/// than the old one, so the ETag always changes on replace even when the size is the same.</item>
/// <item>Leases are lock-protected files holding the lease id and expiry (<see cref="LocalFolderLeaseFile"/>); an expired lease can
/// be taken over, after which the old holder's renew fails. Leases are advisory here: they do not block writes. Expiry is written
/// and checked on the <see cref="TimeProvider"/> the store is given (the system clock unless a test gives it a fake one).</item>
/// </list>
/// Listing and its continuation tokens are <see cref="LocalFolderListing"/>'s.
/// </summary>
internal sealed class LocalFolderObjectStore : IObjectStore
{
    private readonly string _root;
    private readonly string _display;
    private readonly LocalFolderListing _listing;
    private readonly OperationRunner _runner;
    private readonly TimeSpan _lockTimeout;
    private readonly TimeProvider _time;

    public LocalFolderObjectStore(StorageLocation location, OperationRunner runner, TimeSpan lockTimeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.Kind != StorageLocationKind.LocalFolder)
        {
            throw new ArgumentException($"Location '{location}' is not a local folder.", nameof(location));
        }

        Location = location;
        _root = location.LocalPath!;
        Debug.Assert(Path.EndsInDirectorySeparator(_root), "StorageLocation normalises local roots to end with a separator.");
        _display = location.ToString();
        _listing = new LocalFolderListing(_root, _display);
        _runner = runner;
        _lockTimeout = lockTimeout;
        _time = time;
    }

    public StorageLocation Location { get; }

    public Task<ObjectPage> ListAsync(string prefix, int pageSize, string? continuationToken, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        string? after = continuationToken is null ? null : LocalFolderListing.DecodeToken(continuationToken);
        return _runner.RunAsync("List", prefix, _ => ValueTask.FromResult(_listing.ListPage(prefix, pageSize, after)), cancellationToken);
    }

    public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        return _runner.RunAsync<Stream>("OpenRead", key, _ =>
        {
            try
            {
                return ValueTask.FromResult<Stream>(new FileStream(
                    path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan));
            }
            catch (Exception ex) when (IsMissing(ex, path))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<Stream> OpenRandomAccessAsync(string key, string? expectedETag, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        return _runner.RunAsync<Stream>("OpenRandomAccess", key, _ =>
        {
            FileStream stream;
            try
            {
                stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 81920, FileOptions.Asynchronous | FileOptions.RandomAccess);
            }
            catch (Exception ex) when (IsMissing(ex, path))
            {
                throw expectedETag is null ? new ObjectNotFoundException(key, _display, ex) : new ObjectChangedException(key, _display, ex);
            }

            // A replace renames a new file over this one, so the open handle keeps reading the version checked here.
            if (expectedETag is not null && !string.Equals(LocalFolderETag.Of(new FileInfo(path)), expectedETag, StringComparison.Ordinal))
            {
                stream.Dispose();
                throw new ObjectChangedException(key, _display, null);
            }

            return ValueTask.FromResult<Stream>(stream);
        }, cancellationToken);
    }

    public Task<byte[]> ReadAllBytesAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        return _runner.RunAsync("ReadAllBytes", key, async ct =>
        {
            try
            {
                return await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsMissing(ex, path))
            {
                throw new ObjectNotFoundException(key, _display, ex);
            }
        }, cancellationToken);
    }

    public Task<ObjectInfo> CreateAsync(string key, Stream content, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        long start = StartOf(content);
        return _runner.RunAsync("Create", key, async ct =>
        {
            content.Position = start;
            string sidecar = SidecarOf(path);
            CreateSidecar("Create", key, sidecar);
            string temp = await LocalFolderTempFile.WriteAsync(sidecar, path, content, ct).ConfigureAwait(false);
            try
            {
                await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
                {
                    ThrowIfFolderClash("Create", key, path);
                    if (File.Exists(path))
                    {
                        throw new ObjectAlreadyExistsException(key, _display, null);
                    }

                    File.Move(temp, path, overwrite: false);
                }
            }
            finally
            {
                LocalFolderTempFile.TryDelete(temp);
            }

            return InfoOf(key, new FileInfo(path));
        }, cancellationToken);
    }

    public Task<ObjectInfo> ReplaceAsync(string key, Stream content, string expectedETag, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        long start = StartOf(content);
        ArgumentException.ThrowIfNullOrEmpty(expectedETag);
        return _runner.RunAsync("Replace", key, async ct =>
        {
            if (!File.Exists(path))
            {
                throw new ObjectChangedException(key, _display, null);
            }

            content.Position = start;
            string sidecar = SidecarOf(path);
            Directory.CreateDirectory(sidecar);
            string temp = await LocalFolderTempFile.WriteAsync(sidecar, path, content, ct).ConfigureAwait(false);
            try
            {
                await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
                {
                    var current = new FileInfo(path);
                    if (!current.Exists || !string.Equals(LocalFolderETag.Of(current), expectedETag, StringComparison.Ordinal))
                    {
                        throw new ObjectChangedException(key, _display, null);
                    }

                    LocalFolderETag.StampLaterThan(temp, current.LastWriteTimeUtc);
                    File.Move(temp, path, overwrite: true);
                }
            }
            finally
            {
                LocalFolderTempFile.TryDelete(temp);
            }

            return InfoOf(key, new FileInfo(path));
        }, cancellationToken);
    }

    public Task<ObjectInfo> GetPropertiesAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        return _runner.RunAsync("GetProperties", key, _ =>
        {
            var info = new FileInfo(path);
            return info.Exists ? ValueTask.FromResult(InfoOf(key, info)) : throw new ObjectNotFoundException(key, _display, null);
        }, cancellationToken);
    }

    public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        return _runner.RunAsync("Delete", key, async ct =>
        {
            string sidecar = SidecarOf(path);
            if (!File.Exists(path))
            {
                return false;
            }

            await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
            {
                if (!File.Exists(path))
                {
                    return false;
                }

                File.Delete(path);

                // A deleted object loses its lease, as on Azure.
                LocalFolderTempFile.TryDelete(LocalFolderLeaseFile.PathOf(sidecar, path));
                return true;
            }
        }, cancellationToken);
    }

    public Task<ObjectLease?> TryAcquireLeaseAsync(string key, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        string path = PathOf(key);
        if (duration <= TimeSpan.Zero && duration != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A lease duration must be positive or infinite.");
        }

        return _runner.RunAsync("AcquireLease", key, async ct =>
        {
            string sidecar = SidecarOf(path);
            CreateSidecar("AcquireLease", key, sidecar);
            await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
            {
                ThrowIfFolderClash("AcquireLease", key, path);
                if (!File.Exists(path))
                {
                    // Marker object so a lease can be taken on work that has no object yet (same as on Azure).
                    await using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None).ConfigureAwait(false))
                    {
                    }
                }

                string leasePath = LocalFolderLeaseFile.PathOf(sidecar, path);
                (string Id, DateTime ExpiresUtc)? current = LocalFolderLeaseFile.Read(leasePath);
                if (current is { } held && held.ExpiresUtc > _time.GetUtcNow().UtcDateTime)
                {
                    return null;
                }

                var lease = new ObjectLease(key, Guid.NewGuid().ToString("D"), duration);
                LocalFolderLeaseFile.Write(leasePath, lease, _time);
                return lease;
            }
        }, cancellationToken);
    }

    public Task<ObjectLease> RenewLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string path = PathOf(lease.Key);
        return _runner.RunAsync("RenewLease", lease.Key, async ct =>
        {
            string sidecar = SidecarOf(path);
            string leasePath = LocalFolderLeaseFile.PathOf(sidecar, path);
            if (!Directory.Exists(sidecar))
            {
                throw new LeaseLostException(lease.Key, _display, null);
            }

            await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
            {
                // An expired lease that nobody took over can still be renewed (Azure behaves the same).
                if (LocalFolderLeaseFile.Read(leasePath) is not { } held || !string.Equals(held.Id, lease.LeaseId, StringComparison.Ordinal))
                {
                    throw new LeaseLostException(lease.Key, _display, null);
                }

                LocalFolderLeaseFile.Write(leasePath, lease, _time);
                return lease;
            }
        }, cancellationToken);
    }

    /// <summary>A local folder has no service that can be down: the file system answers, or the process cannot go on anyway.</summary>
    public Task<bool> ProbeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(true);
    }

    public Task<bool> ReleaseLeaseAsync(ObjectLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        string path = PathOf(lease.Key);
        return _runner.RunAsync("ReleaseLease", lease.Key, async ct =>
        {
            string sidecar = SidecarOf(path);
            string leasePath = LocalFolderLeaseFile.PathOf(sidecar, path);
            if (!File.Exists(leasePath))
            {
                return false;
            }

            await using (await LocalFolderLock.AcquireAsync(sidecar, _lockTimeout, ct).ConfigureAwait(false))
            {
                if (LocalFolderLeaseFile.Read(leasePath) is not { } held || !string.Equals(held.Id, lease.LeaseId, StringComparison.Ordinal))
                {
                    return false;
                }

                File.Delete(leasePath);
                return true;
            }
        }, cancellationToken);
    }

    private static ObjectInfo InfoOf(string key, FileInfo info) =>
        new(key, info.Length, LocalFolderETag.Of(info), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));

    private string PathOf(string key)
    {
        ObjectKey.Validate(key);
        string path = Path.GetFullPath(Path.Combine(_root, key.Replace('/', Path.DirectorySeparatorChar)));

        // Defence in depth: validation already rejects everything that could leave the root.
        if (!path.StartsWith(_root, StringComparison.Ordinal) || path.Length == _root.Length)
        {
            throw new InvalidObjectKeyException(key, "it resolves outside the store root");
        }

        return path;
    }

    private static string SidecarOf(string path) => Path.Combine(Path.GetDirectoryName(path)!, ObjectKey.ReservedSegment);

    private static long StartOf(Stream content)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.CanSeek)
        {
            throw new ArgumentException("The content stream must be seekable so a failed write can be retried; buffer it first.", nameof(content));
        }

        return content.Position;
    }

    private static bool IsMissing(Exception ex, string path) =>
        ex is FileNotFoundException or DirectoryNotFoundException
        || (ex is UnauthorizedAccessException && Directory.Exists(path));

    private void ThrowIfFolderClash(string operation, string key, string path)
    {
        if (Directory.Exists(path))
        {
            throw new StorageOperationException(
                operation, key, _display, "a folder of the same name exists (a local folder cannot hold both 'x' and 'x/...')", null);
        }
    }

    private void CreateSidecar(string operation, string key, string sidecar)
    {
        try
        {
            Directory.CreateDirectory(sidecar);
        }
        catch (IOException ex) when (ex is DirectoryNotFoundException || File.Exists(Path.GetDirectoryName(sidecar)))
        {
            // Some parent segment of the key is an existing object (a file), so it cannot be a folder too.
            throw new StorageOperationException(
                operation, key, _display, "a parent segment of the key is an existing object (a local folder cannot hold both 'x' and 'x/...')", ex);
        }
    }
}
