using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using KdData.Hosting;
using KdData.PackedImages;
using KdData.Storage;

namespace KdData.Training;

/// <summary>
/// Unpacks the packed shards of one store for <see cref="ImageByteCache"/>: each shard is read once, front to back (a
/// Parquet table row group by row group through ranged reads pinned to its ETag, a tar archive as a stream), and its
/// members are written back to back into one data file under the cache folder with an index beside it, so memory holds
/// one row group (or one tar sample) at a time whatever the shard's size. A later run finds the index of the same shard
/// version (its ETag is part of the file names) and reads nothing but the shard's properties. Without a cache folder the
/// members are kept in memory instead, one array per shard (36 MB of PNGs for all 70,000 Fashion-MNIST images).
/// Concurrent requests for one shard share one unpacking; a failed one is forgotten, so the next request tries again.
/// </summary>
internal sealed class PackedShardUnpacker
{
    // The label column is not needed (labels come from the manifests) and must not fail a table whose labels are not integers.
    private static readonly PackedReadOptions ReadOptions = new() { LabelColumn = string.Empty };

    private readonly IObjectStore _store;
    private readonly string? _root;
    private readonly ConcurrentDictionary<string, Lazy<Task<UnpackedShard>>> _shards = new(StringComparer.Ordinal);

    /// <param name="store">The store holding the shards.</param>
    /// <param name="root">This store's folder for unpacked shards; null keeps them in memory.</param>
    public PackedShardUnpacker(IObjectStore store, string? root)
    {
        _store = store;
        _root = root;
    }

    /// <summary>Where unpacked shards go, or null when they are kept in memory.</summary>
    public string? Root => _root;

    /// <summary>The unpacked shard <paramref name="key"/>, unpacking it on first use.</summary>
    /// <exception cref="ObjectNotFoundException">The shard does not exist.</exception>
    /// <exception cref="InvalidInputException">The shard is not readable as <paramref name="format"/> (names the file).</exception>
    public async Task<UnpackedShard> GetAsync(string key, InputFormat format, CancellationToken cancellationToken)
    {
        while (true)
        {
            var lazy = _shards.GetOrAdd(key, k => new Lazy<Task<UnpackedShard>>(() => UnpackAsync(k, format, cancellationToken)));
            try
            {
                return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && lazy.Value.IsCanceled)
            {
                // The caller that started the unpacking was stopped, this one was not: start it again.
                _shards.TryRemove(KeyValuePair.Create(key, lazy));
            }
            catch when (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
            {
                _shards.TryRemove(KeyValuePair.Create(key, lazy));
                throw;
            }
        }
    }

    private async Task<UnpackedShard> UnpackAsync(string key, InputFormat format, CancellationToken cancellationToken)
    {
        var info = await _store.GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
        var location = _store.Location.ToString() + key;
        if (_root is null)
        {
            using var buffer = new MemoryStream();
            var index = await ExtractAsync(key, format, info.ETag, buffer, cancellationToken).ConfigureAwait(false);
            return new UnpackedShard(location, format, index, null, buffer.ToArray(), fromCache: false);
        }

        // Keys come from manifests: validate before they touch the local disk (no '..', no absolute paths).
        ObjectKey.Validate(key);
        var stem = Path.GetFullPath(Path.Combine(_root, key)) + "." + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(info.ETag)))[..12];
        var dataPath = stem + ".data";
        var indexPath = stem + ".index.json";
        if (TryLoadIndex(indexPath, dataPath, key, info.ETag) is { } cached)
        {
            return new UnpackedShard(location, format, cached, dataPath, null, fromCache: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(dataPath)!);
        var unique = "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            UnpackedShardIndex index;
            var data = new FileStream(dataPath + unique, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await using (data.ConfigureAwait(false))
            {
                index = await ExtractAsync(key, format, info.ETag, data, cancellationToken).ConfigureAwait(false);
            }

            // Data first, index last: an index on disk always has its data. Renames replace an identical copy another
            // process may have written meanwhile; readers holding the old file keep reading it.
            File.Move(dataPath + unique, dataPath, overwrite: true);
            await File.WriteAllBytesAsync(indexPath + unique, JsonSerializer.SerializeToUtf8Bytes(index), CancellationToken.None).ConfigureAwait(false);
            File.Move(indexPath + unique, indexPath, overwrite: true);
            return new UnpackedShard(location, format, index, dataPath, null, fromCache: false);
        }
        finally
        {
            File.Delete(dataPath + unique);
            File.Delete(indexPath + unique);
        }
    }

    /// <summary>Streams the shard's members into <paramref name="output"/> and returns their index.</summary>
    private async Task<UnpackedShardIndex> ExtractAsync(string key, InputFormat format, string etag, Stream output, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        var lengths = new List<int>();
        try
        {
            if (format == InputFormat.Parquet)
            {
                var stream = await _store.OpenRandomAccessAsync(key, etag, cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    var table = await ParquetImageTable.OpenAsync(stream, key, ReadOptions, cancellationToken).ConfigureAwait(false);
                    await using (table.ConfigureAwait(false))
                    {
                        await foreach (var member in table.ReadAsync(null, cancellationToken).ConfigureAwait(false))
                        {
                            await AddAsync(member, output, names, lengths, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
            else
            {
                var stream = await _store.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
                await using (stream.ConfigureAwait(false))
                {
                    await foreach (var member in TarImageArchive.ReadAsync(stream, key, ReadOptions, null, cancellationToken).ConfigureAwait(false))
                    {
                        await AddAsync(member, output, names, lengths, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (PackedFileException e)
        {
            throw new InvalidInputException($"Image shard '{_store.Location}{key}' cannot be read as {format.ToString().ToLowerInvariant()}: {e.Detail}", e);
        }

        return new UnpackedShardIndex { Shard = key, ETag = etag, Names = names, Lengths = lengths };
    }

    private static async Task AddAsync(PackedMember member, Stream output, List<string> names, List<int> lengths, CancellationToken cancellationToken)
    {
        names.Add(member.Name);
        if (member.Bytes is { } bytes)
        {
            await output.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            lengths.Add(bytes.Length);
        }
        else
        {
            lengths.Add(-1);
        }
    }

    private static UnpackedShardIndex? TryLoadIndex(string indexPath, string dataPath, string key, string etag)
    {
        try
        {
            var index = JsonSerializer.Deserialize<UnpackedShardIndex>(File.ReadAllBytes(indexPath));
            var expected = index?.Lengths.Sum(l => (long)Math.Max(l, 0));
            return index is not null && index.Shard == key && index.ETag == etag && index.Names.Count == index.Lengths.Count
                && new FileInfo(dataPath) is { Exists: true } data && data.Length == expected
                ? index
                : null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            // Not unpacked yet, or an index from an older layout: unpack again.
            return null;
        }
    }
}
