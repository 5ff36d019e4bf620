using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KdData.Storage;

/// <summary>Conveniences over <see cref="IObjectStore"/>.</summary>
public static class ObjectStoreExtensions
{
    /// <summary>Default page size for <see cref="ListAllAsync"/>; 1000 is also the Azure service's default page.</summary>
    public const int DefaultPageSize = 1000;

    /// <summary>Every object under <paramref name="prefix"/>, page by page, in ordinal key order.</summary>
    public static async IAsyncEnumerable<ObjectInfo> ListAllAsync(
        this IObjectStore store,
        string prefix = "",
        int pageSize = DefaultPageSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        string? token = null;
        do
        {
            ObjectPage page = await store.ListAsync(prefix, pageSize, token, cancellationToken).ConfigureAwait(false);
            foreach (ObjectInfo item in page.Items)
            {
                yield return item;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>Create-only write of an in-memory buffer.</summary>
    public static async Task<ObjectInfo> CreateAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using MemoryStream stream = AsStream(content);
        return await store.CreateAsync(key, stream, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Conditional replace with an in-memory buffer.</summary>
    public static async Task<ObjectInfo> ReplaceAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> content, string expectedETag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        using MemoryStream stream = AsStream(content);
        return await store.ReplaceAsync(key, stream, expectedETag, cancellationToken).ConfigureAwait(false);
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> content) =>
        MemoryMarshal.TryGetArray(content, out ArraySegment<byte> segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(content.ToArray(), writable: false);
}
