using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using KdData.Storage;

namespace KdData.Training;

/// <summary>
/// A read-through cache of object bytes on local disk, so that epochs after the first never touch
/// remote storage. Entries live under <c>&lt;directory&gt;/&lt;hash of the store location&gt;/&lt;key&gt;</c>
/// and are written atomically (temp file + rename), so a crash never leaves a torn entry. Training
/// data are treated as immutable: an entry is never revalidated against the store.
/// </summary>
public sealed class ImageByteCache
{
    private readonly IObjectStore _store;
    private readonly string? _root;

    /// <param name="store">The store to read through.</param>
    /// <param name="directory">Cache folder; null or empty disables caching.</param>
    public ImageByteCache(IObjectStore store, string? directory)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        if (!string.IsNullOrWhiteSpace(directory))
        {
            var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(store.Location.ToString())))[..16];
            _root = Path.GetFullPath(Path.Combine(directory, id));
        }
    }

    /// <summary>Folder holding this store's entries, or null when caching is off.</summary>
    public string? Root => _root;

    /// <summary>Bytes of <paramref name="key"/>, from the cache when present, else from the store (and then cached).</summary>
    public async Task<byte[]> GetAsync(string key, CancellationToken cancellationToken = default)
    {
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
}
