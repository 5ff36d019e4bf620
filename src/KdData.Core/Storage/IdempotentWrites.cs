namespace KdData.Storage;

/// <summary>
/// Create-only writes that survive a lost response. A create whose first attempt reached the service but whose
/// response was lost is retried and then finds its own object (<see cref="ObjectAlreadyExistsException"/>); so does
/// any fallback that deletes and creates again, since that can lose a response too. Where the caller knows exactly
/// which bytes it meant to write, an existing object with the same bytes is its own write and counts as success.
/// </summary>
public static class IdempotentWrites
{
    /// <summary>How many create attempts <see cref="CreateOrReplaceLeftoverAsync"/> makes before giving up.</summary>
    public const int DefaultMaxAttempts = 5;

    /// <summary>
    /// Creates <paramref name="key"/> with <paramref name="content"/>; if it already exists with exactly these bytes
    /// (same length and content), that is taken as this caller's own earlier write and its properties are returned.
    /// </summary>
    /// <exception cref="ObjectAlreadyExistsException">The key holds different bytes: someone else's object.</exception>
    public static async Task<ObjectInfo> CreateOrConfirmAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await store.CreateAsync(key, content, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectAlreadyExistsException)
            {
                ObjectInfo? same;
                try
                {
                    same = await store.GetIfContentEqualsAsync(key, content, cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectNotFoundException) when (attempt < DefaultMaxAttempts)
                {
                    // Deleted between the create and the read: nothing to compare with, so create again.
                    continue;
                }

                if (same is not null)
                {
                    return same;
                }

                throw;
            }
        }
    }

    /// <summary>
    /// Creates <paramref name="key"/> with <paramref name="content"/>, deleting an existing object with different bytes
    /// first. Only for keys the caller owns outright (for example an uncommitted shard file of a partition whose lease
    /// it holds): whatever is there is either its own retried write or a leftover nobody else may use. Every step
    /// tolerates a lost response (a repeated delete finds nothing, a repeated create finds the same bytes); the loop
    /// is bounded by <see cref="DefaultMaxAttempts"/>.
    /// </summary>
    /// <exception cref="ObjectAlreadyExistsException">The key still held different bytes after every attempt (another writer).</exception>
    public static async Task<ObjectInfo> CreateOrReplaceLeftoverAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await store.CreateOrConfirmAsync(key, content, cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectAlreadyExistsException) when (attempt < DefaultMaxAttempts)
            {
                await store.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The properties of <paramref name="key"/> when it holds exactly <paramref name="content"/>, otherwise null.
    /// The properties are read before the bytes, so the returned ETag is never newer than the compared content: a
    /// conditional replace with it fails safely should the object change in between.
    /// </summary>
    /// <exception cref="ObjectNotFoundException">The key does not exist.</exception>
    public static async Task<ObjectInfo?> GetIfContentEqualsAsync(this IObjectStore store, string key, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var info = await store.GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
        if (info.Size != content.Length)
        {
            return null;
        }

        var current = await store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
        return current.AsSpan().SequenceEqual(content.Span) ? info : null;
    }
}
