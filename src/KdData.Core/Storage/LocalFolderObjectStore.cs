using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.IO.Enumeration;
using System.Text;

namespace KdData.Storage;

/// <summary>
/// <see cref="IObjectStore"/> over a local (or mounted) folder. Object "a/b.bin" is the file <c>root/a/b.bin</c>;
/// the store's own files live in a <c>.kddata</c> folder next to the objects of each folder (never listed):
/// temp files (<c>name.guid.tmp</c>), one write lock per folder (<c>folder.lock</c>) and lease files (<c>name.lease</c>).
/// <list type="bullet">
/// <item>Writes go to a temp file first and are renamed into place, so a partially written object is never visible.</item>
/// <item>The existence/ETag check and the rename happen under the folder lock (an exclusive <see cref="FileShare.None"/> open,
/// i.e. flock on Unix), which makes create-only and conditional replace atomic for all writers on this machine that use this store.</item>
/// <item>ETag = last-write time (100 ns ticks) + size. A replace stamps the new file strictly later than the old one, so the ETag
/// always changes on replace even when the size is the same.</item>
/// <item>Leases are lock-protected files holding the lease id and expiry; an expired lease can be taken over, after which the old
/// holder's renew fails. Leases are advisory here: they do not block writes. Expiry is written and checked on the
/// <see cref="TimeProvider"/> the store is given (the system clock unless a test gives it a fake one).</item>
/// </list>
/// </summary>
internal sealed class LocalFolderObjectStore : IObjectStore
{
    private const string LockFileName = "folder.lock";
    private const string LeaseSuffix = ".lease";
    private const int MaxTempNamePrefix = 100;

    /// <summary>Orders keys largest first (ordinal), so a page's bounded heap can drop its largest key.</summary>
    private static readonly Comparer<string> LargestFirst = Comparer<string>.Create(static (a, b) => string.CompareOrdinal(b, a));

    private readonly string _root;
    private readonly string _display;
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
        _runner = runner;
        _lockTimeout = lockTimeout;
        _time = time;
    }

    public StorageLocation Location { get; }

    public Task<ObjectPage> ListAsync(string prefix, int pageSize, string? continuationToken, CancellationToken cancellationToken = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        string? after = continuationToken is null ? null : DecodeToken(continuationToken);
        return _runner.RunAsync("List", prefix, _ => ValueTask.FromResult(ListPage(prefix, pageSize, after)), cancellationToken);
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
            if (expectedETag is not null && !string.Equals(ETagOf(new FileInfo(path)), expectedETag, StringComparison.Ordinal))
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
            string temp = await WriteTempAsync(sidecar, path, content, ct).ConfigureAwait(false);
            try
            {
                await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
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
                TryDelete(temp);
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
            string temp = await WriteTempAsync(sidecar, path, content, ct).ConfigureAwait(false);
            try
            {
                await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
                {
                    var current = new FileInfo(path);
                    if (!current.Exists || !string.Equals(ETagOf(current), expectedETag, StringComparison.Ordinal))
                    {
                        throw new ObjectChangedException(key, _display, null);
                    }

                    StampLaterThan(temp, current.LastWriteTimeUtc);
                    File.Move(temp, path, overwrite: true);
                }
            }
            finally
            {
                TryDelete(temp);
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

            await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
            {
                if (!File.Exists(path))
                {
                    return false;
                }

                File.Delete(path);

                // A deleted object loses its lease, as on Azure.
                TryDelete(LeasePathOf(sidecar, path));
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
            await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
            {
                ThrowIfFolderClash("AcquireLease", key, path);
                if (!File.Exists(path))
                {
                    // Marker object so a lease can be taken on work that has no object yet (same as on Azure).
                    await using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None).ConfigureAwait(false))
                    {
                    }
                }

                string leasePath = LeasePathOf(sidecar, path);
                (string Id, DateTime ExpiresUtc)? current = ReadLease(leasePath);
                if (current is { } held && held.ExpiresUtc > _time.GetUtcNow().UtcDateTime)
                {
                    return null;
                }

                var lease = new ObjectLease(key, Guid.NewGuid().ToString("D"), duration);
                WriteLease(leasePath, lease);
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
            string leasePath = LeasePathOf(sidecar, path);
            if (!Directory.Exists(sidecar))
            {
                throw new LeaseLostException(lease.Key, _display, null);
            }

            await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
            {
                // An expired lease that nobody took over can still be renewed (Azure behaves the same).
                if (ReadLease(leasePath) is not { } held || !string.Equals(held.Id, lease.LeaseId, StringComparison.Ordinal))
                {
                    throw new LeaseLostException(lease.Key, _display, null);
                }

                WriteLease(leasePath, lease);
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
            string leasePath = LeasePathOf(sidecar, path);
            if (!File.Exists(leasePath))
            {
                return false;
            }

            await using (await LockFolderAsync(sidecar, ct).ConfigureAwait(false))
            {
                if (ReadLease(leasePath) is not { } held || !string.Equals(held.Id, lease.LeaseId, StringComparison.Ordinal))
                {
                    return false;
                }

                File.Delete(leasePath);
                return true;
            }
        }, cancellationToken);
    }

    internal static string ETagOf(FileInfo info) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{info.LastWriteTimeUtc.Ticks:x}-{info.Length:x}\"");

    private static ObjectInfo InfoOf(string key, FileInfo info) =>
        new(key, info.Length, ETagOf(info), new DateTimeOffset(info.LastWriteTimeUtc, TimeSpan.Zero));

    private ObjectPage ListPage(string prefix, int pageSize, string? after)
    {
        if (!Directory.Exists(_root))
        {
            throw new StoreNotFoundException(_display, "no folder " + _root, null);
        }

        int slash = prefix.LastIndexOf('/');
        string start = slash < 0 ? _root : Path.Combine(_root, prefix[..slash].Replace('/', Path.DirectorySeparatorChar));
        if (!Directory.Exists(start))
        {
            return new ObjectPage([], null);
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            AttributesToSkip = 0, // dot-files are "hidden" on Unix but are ordinary objects here
            IgnoreInaccessible = true,
            ReturnSpecialDirectories = false,
        };
        // Pages are stable and duplicate-free even while objects are added: every page enumerates everything under
        // the prefix and keeps the pageSize smallest keys after the token (the last key returned). Only those reach
        // the transform (which stats the file and allocates): an entry at or before the token, or after the largest
        // key kept so far on a full page, is rejected by comparing its key in place. Sorting every entry into an
        // ObjectInfo per page made listing quadratic (20 pages of 20,000 files = 400,000 stats and objects).
        var kept = new PriorityQueue<ObjectInfo, string>(pageSize + 1, LargestFirst);
        var entries = new FileSystemEnumerable<ObjectInfo?>(start, (ref FileSystemEntry entry) => ToInfo(ref entry), options)
        {
            ShouldIncludePredicate = (ref FileSystemEntry entry) =>
                !entry.IsDirectory && IsCandidate(ref entry, prefix, after, kept.Count > pageSize ? kept.Peek().Key : null),
            ShouldRecursePredicate = static (ref FileSystemEntry entry) =>
                !entry.FileName.Equals(ObjectKey.ReservedSegment, StringComparison.OrdinalIgnoreCase),
        };

        foreach (ObjectInfo? info in entries)
        {
            if (info is not null)
            {
                kept.Enqueue(info, info.Key);
                if (kept.Count > pageSize + 1)
                {
                    kept.Dequeue();
                }
            }
        }

        // pageSize + 1 kept means there is more after this page: drop the largest, it starts the next one.
        var more = kept.Count > pageSize;
        if (more)
        {
            kept.Dequeue();
        }

        var page = new List<ObjectInfo>(kept.Count);
        while (kept.Count > 0)
        {
            page.Add(kept.Dequeue());
        }

        page.Reverse();
        return more ? new ObjectPage(page, EncodeToken(page[^1].Key)) : new ObjectPage(page, null);
    }

    /// <summary>
    /// Whether the entry's key (its path below the root, with '/' separators; built on the stack, not allocated)
    /// starts with <paramref name="prefix"/>, comes after <paramref name="after"/> and before <paramref name="below"/>.
    /// </summary>
    private bool IsCandidate(ref FileSystemEntry entry, string prefix, string? after, string? below)
    {
        var directory = entry.Directory;
        var name = entry.FileName;
        var separator = directory.Length > 0 && !Path.EndsInDirectorySeparator(directory) ? 1 : 0;
        var length = directory.Length + separator + name.Length;
        char[]? rented = null;
        Span<char> full = length <= 512 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            directory.CopyTo(full);
            if (separator == 1)
            {
                full[directory.Length] = Path.DirectorySeparatorChar;
            }

            name.CopyTo(full[(directory.Length + separator)..]);
            if (length < _root.Length)
            {
                return false;
            }

            var key = full[_root.Length..length];
            if (Path.DirectorySeparatorChar != '/')
            {
                key.Replace(Path.DirectorySeparatorChar, '/');
            }

            return key.StartsWith(prefix, StringComparison.Ordinal)
                && (after is null || ((ReadOnlySpan<char>)key).SequenceCompareTo(after) > 0)
                && (below is null || ((ReadOnlySpan<char>)key).SequenceCompareTo(below) < 0);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private ObjectInfo? ToInfo(ref FileSystemEntry entry)
    {
        string full = entry.ToFullPath();
        Debug.Assert(full.StartsWith(_root, StringComparison.Ordinal), "Enumeration starts inside the root.");
        string key = full[_root.Length..].Replace(Path.DirectorySeparatorChar, '/');

        // Files whose names could not be addressed through the API (e.g. with a backslash) are not listed.
        return ObjectKey.FindProblem(key, isPrefix: false) is null
            ? new ObjectInfo(key, entry.Length, string.Create(CultureInfo.InvariantCulture, $"\"{entry.LastWriteTimeUtc.UtcTicks:x}-{entry.Length:x}\""), entry.LastWriteTimeUtc.ToUniversalTime())
            : null;
    }

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

    private static string LeasePathOf(string sidecar, string path) => Path.Combine(sidecar, Path.GetFileName(path) + LeaseSuffix);

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

    private static async Task<string> WriteTempAsync(string sidecar, string path, Stream content, CancellationToken cancellationToken)
    {
        string name = Path.GetFileName(path);
        if (name.Length > MaxTempNamePrefix)
        {
            name = name[..MaxTempNamePrefix];
        }

        string temp = Path.Combine(sidecar, $"{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);

                // Durable before it becomes visible under its real name.
                file.Flush(flushToDisk: true);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        return temp;
    }

    /// <summary>Ensures the replacement's write time (and so its ETag) differs from the old one even on coarse-grained file systems.</summary>
    private static void StampLaterThan(string temp, DateTime previousUtc)
    {
        DateTime stamp = DateTime.UtcNow > previousUtc ? DateTime.UtcNow : previousUtc.AddTicks(1);
        File.SetLastWriteTimeUtc(temp, stamp);
        if (File.GetLastWriteTimeUtc(temp) <= previousUtc)
        {
            File.SetLastWriteTimeUtc(temp, previousUtc.AddSeconds(2));
        }
    }

    private async Task<FileStream> LockFolderAsync(string sidecar, CancellationToken cancellationToken)
    {
        string lockPath = Path.Combine(sidecar, LockFileName);
        DateTime deadline = DateTime.UtcNow + _lockTimeout;
        while (true)
        {
            try
            {
                Directory.CreateDirectory(sidecar);
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new TimeoutException($"Timed out after {_lockTimeout} waiting for the folder lock '{lockPath}'.", ex);
                }
            }

#pragma warning disable CA5394 // Jitter only spreads out lock polling; no security relevance.
            await Task.Delay(TimeSpan.FromMilliseconds(5 + Random.Shared.Next(20)), cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5394
        }
    }

    private static (string Id, DateTime ExpiresUtc)? ReadLease(string leasePath)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(leasePath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (lines.Length < 2 || !long.TryParse(lines[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ticks)
            || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return null; // unreadable lease file: treat as free (it can only come from a crash mid-write)
        }

        return (lines[0], new DateTime(ticks, DateTimeKind.Utc));
    }

    private void WriteLease(string leasePath, ObjectLease lease)
    {
        DateTime expires = lease.Duration == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : _time.GetUtcNow().UtcDateTime + lease.Duration;
        string temp = leasePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, lease.LeaseId + "\n" + expires.Ticks.ToString(CultureInfo.InvariantCulture) + "\n", Encoding.UTF8);
        File.Move(temp, leasePath, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is never listed and does not affect correctness.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }

    private static string EncodeToken(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

    private static string DecodeToken(string token)
    {
        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException ex)
        {
            throw new ArgumentException($"'{token}' is not a continuation token of this store.", nameof(token), ex);
        }
    }
}
