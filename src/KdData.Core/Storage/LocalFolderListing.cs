using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Enumeration;
using System.Text;

namespace KdData.Storage;

/// <summary>
/// <see cref="LocalFolderObjectStore.ListAsync"/>'s paging: one page of the objects below a prefix, in ordinal key order,
/// and the continuation token that resumes after its last key. Kept apart from the store because it is the one place that
/// walks the whole tree, and it is tuned to do so without a stat or an allocation per file that does not make the page.
/// </summary>
/// <remarks>
/// The token is the last key returned (base64url of its UTF-8), so a page never depends on state kept between calls:
/// objects added or deleted while paging neither repeat nor shift a key that was already returned.
/// </remarks>
internal sealed class LocalFolderListing
{
    /// <summary>Orders keys largest first (ordinal), so a page's bounded heap can drop its largest key.</summary>
    private static readonly Comparer<string> LargestFirst = Comparer<string>.Create(static (a, b) => string.CompareOrdinal(b, a));

    private readonly string _root;
    private readonly string _display;

    /// <param name="root">The store's root folder, ending with a directory separator.</param>
    /// <param name="display">The store's location as messages name it.</param>
    public LocalFolderListing(string root, string display)
    {
        _root = root;
        _display = display;
    }

    /// <summary>The key a continuation token resumes after.</summary>
    /// <exception cref="ArgumentException">The token was not made by this store.</exception>
    public static string DecodeToken(string token)
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

    /// <summary>Up to <paramref name="pageSize"/> objects under <paramref name="prefix"/> whose keys come after <paramref name="after"/>.</summary>
    /// <exception cref="StoreNotFoundException">The root folder does not exist.</exception>
    public ObjectPage ListPage(string prefix, int pageSize, string? after)
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

    private static string EncodeToken(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

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
            ? new ObjectInfo(key, entry.Length, LocalFolderETag.Of(entry.LastWriteTimeUtc.UtcTicks, entry.Length), entry.LastWriteTimeUtc.ToUniversalTime())
            : null;
    }
}
