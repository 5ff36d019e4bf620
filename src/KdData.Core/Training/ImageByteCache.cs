using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using KdData.Hosting;
using KdData.PackedImages;
using KdData.Storage;
using Microsoft.Extensions.Logging;

namespace KdData.Training;

/// <summary>
/// A read-through cache of object bytes on local disk, so that epochs after the first never touch
/// remote storage. Entries live under <c>&lt;directory&gt;/&lt;hash of the store location&gt;/&lt;key&gt;</c>
/// and are written atomically (temp file + rename), so a crash never leaves a torn entry. Training
/// data are treated as immutable: an entry is never revalidated against the store.
/// <para>
/// A key naming a member of a packed shard (<c>train/part-00000.parquet#17</c>, <c>train/part-00000.tar#00017.png</c>,
/// see <see cref="PackedFormats.TrySplitMemberKey"/>) is read from the shard: the shard is unpacked once, on first use
/// or by <see cref="PrepareAsync"/>, into <c>&lt;directory&gt;/unpacked/&lt;hash of the store location&gt;/</c> (one data
/// file and one index per shard version; in memory when there is no directory), and each member is then one positional
/// read, so shuffled epochs cost what they cost with loose files.
/// </para>
/// </summary>
public sealed class ImageByteCache
{
    /// <summary>Shards unpacked at once by <see cref="PrepareAsync"/>: each holds up to a Parquet row group in memory.</summary>
    private const int UnpackConcurrency = 2;

    private readonly IObjectStore _store;
    private readonly string? _root;
    private readonly PackedShardUnpacker _packed;

    /// <param name="store">The store to read through.</param>
    /// <param name="directory">Cache folder; null or empty disables caching (packed shards are then unpacked in memory).</param>
    public ImageByteCache(IObjectStore store, string? directory)
        : this(store, directory, directory)
    {
    }

    private ImageByteCache(IObjectStore store, string? looseDirectory, string? packedDirectory)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store.Location.ToString())))[..16];
        if (!string.IsNullOrWhiteSpace(looseDirectory))
        {
            _root = Path.GetFullPath(Path.Combine(looseDirectory, id));
        }

        // "unpacked" never collides with the 16-hex-digit folders of loose entries.
        _packed = new PackedShardUnpacker(store, string.IsNullOrWhiteSpace(packedDirectory) ? null : Path.GetFullPath(Path.Combine(packedDirectory, "unpacked", id)));
    }

    /// <summary>Folder holding this store's loose entries, or null when caching is off.</summary>
    public string? Root => _root;

    /// <summary>Folder holding this store's unpacked shards, or null when they are unpacked in memory.</summary>
    public string? UnpackedRoot => _packed.Root;

    /// <summary>
    /// The cache a stage reads a dataset (or a Labeler input) through: loose objects are cached under
    /// <paramref name="directory"/> only when the store is remote, since a local folder is already on disk; packed
    /// shards are unpacked there whatever the store, since a member cannot be read on its own.
    /// </summary>
    /// <param name="store">The dataset's store.</param>
    /// <param name="directory"><c>Trainer:Data:CacheDirectory</c>; null or empty: no loose cache, shards unpacked in memory.</param>
    public static ImageByteCache ForStore(IObjectStore store, string? directory)
    {
        ArgumentNullException.ThrowIfNull(store);
        return new ImageByteCache(store, store.Location.Kind == StorageLocationKind.LocalFolder ? null : directory, directory);
    }

    /// <summary>Bytes of <paramref name="key"/>, from the cache when present, else from the store (and then cached).</summary>
    /// <exception cref="ObjectNotFoundException">The object, or the shard a member key names, does not exist.</exception>
    /// <exception cref="InvalidInputException">A member key names a row or member its shard does not have, or a shard that is not its format.</exception>
    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (PackedFormats.TrySplitMemberKey(key, out var shardKey, out var member, out var format))
        {
            var shard = await _packed.GetAsync(shardKey, format, cancellationToken).ConfigureAwait(false);
            return await shard.ReadAsync(key, member, cancellationToken).ConfigureAwait(false);
        }

        if (_root is null)
        {
            return await _store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
        }

        // Keys come from manifests: validate before they touch the local disk (no '..', no absolute paths).
        ObjectKey.Validate(key);
        var path = Path.GetFullPath(Path.Combine(_root, key));
        Debug.Assert(path.StartsWith(_root, StringComparison.Ordinal), "a validated key stays under the cache root");
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Not cached yet.
        }

        var bytes = await _store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            // Not cancellable: a half-written temp file would only be litter.
            await File.WriteAllBytesAsync(temp, bytes, CancellationToken.None).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
        return bytes;
    }

    /// <summary>
    /// Unpacks every shard that <paramref name="keys"/> name members of and checks that each of those members exists,
    /// before a stage starts, so a manifest that does not match its shards stops the stage at once with a message naming
    /// the key (exit 2) instead of part way into an epoch; each shard is then read once per run, not per epoch. Loose keys
    /// are left alone (a missing loose image is skipped when it is read, as before).
    /// </summary>
    /// <param name="keys">Image keys of this store, e.g. a manifest split's.</param>
    /// <param name="logger">Where a line about the shards read goes; null for none.</param>
    /// <param name="cancellationToken">Stops the unpacking.</param>
    /// <exception cref="InvalidInputException">A key names a shard that does not exist, a row or member its shard does not have, or a shard that is not its format.</exception>
    public async Task PrepareAsync(IEnumerable<string> keys, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var shards = new Dictionary<string, (InputFormat Format, List<(string Key, string Member)> Members)>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (PackedFormats.TrySplitMemberKey(key, out var shardKey, out var member, out var format))
            {
                if (!shards.TryGetValue(shardKey, out var entry))
                {
                    shards[shardKey] = entry = (format, []);
                }

                entry.Members.Add((key, member));
            }
        }

        if (shards.Count == 0)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        var problems = new System.Collections.Concurrent.ConcurrentBag<(string Key, string Problem)>();
        var unpacked = 0;
        var members = 0L;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = UnpackConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(shards, parallel, async (entry, ct) =>
        {
            UnpackedShard shard;
            try
            {
                shard = await _packed.GetAsync(entry.Key, entry.Value.Format, ct).ConfigureAwait(false);
            }
            catch (ObjectNotFoundException)
            {
                foreach (var (key, _) in entry.Value.Members)
                {
                    problems.Add((key, $"'{key}' names shard '{_store.Location}{entry.Key}', which does not exist"));
                }

                return;
            }

            Interlocked.Add(ref members, shard.Names.Count);
            if (!shard.FromCache)
            {
                Interlocked.Increment(ref unpacked);
            }

            foreach (var (key, member) in entry.Value.Members)
            {
                if (shard.Problem(key, member) is { } problem)
                {
                    problems.Add((key, problem));
                }
            }
        }).ConfigureAwait(false);

        if (!problems.IsEmpty)
        {
            var sorted = problems.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            var more = sorted.Count > 1 ? $" ({sorted.Count - 1:N0} more image keys of {_store.Location} do not resolve either)" : string.Empty;
            throw new InvalidInputException($"Image key {sorted[0].Problem}{more}; re-import the dataset or fix its manifest.");
        }

        logger?.LogInformation(
            "Packed images of {Store}: {Shards} shard(s) holding {Members} images, {Unpacked} unpacked now into {Where}, {Cached} unpacked by an earlier run; {Seconds:F1} s",
            shards.Count, _store.Location, members, unpacked, _packed.Root ?? "memory", shards.Count - unpacked, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The image keys inside the packed shard <paramref name="shardKey"/>, in shard order (unpacking it if need be).</summary>
    /// <param name="shardKey">A <c>.parquet</c> or <c>.tar</c> object of this store.</param>
    /// <param name="cancellationToken">Stops the unpacking.</param>
    /// <exception cref="ArgumentException"><paramref name="shardKey"/> is not a packed file's key.</exception>
    public async Task<IReadOnlyList<string>> ListMembersAsync(string shardKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shardKey);
        var format = PackedFormats.Resolve(InputFormat.Auto, shardKey);
        if (format == InputFormat.Loose)
        {
            throw new ArgumentException($"'{shardKey}' is not a .parquet or .tar shard.", nameof(shardKey));
        }

        var shard = await _packed.GetAsync(shardKey, format, cancellationToken).ConfigureAwait(false);
        return [.. shard.Names.Select(name => PackedFormats.MemberKey(shardKey, name))];
    }
}
