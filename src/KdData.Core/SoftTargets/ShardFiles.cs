namespace KdData.SoftTargets;

/// <summary>Opening shard files by path, shared by <see cref="SoftTargetShard"/> and <see cref="ErrorShard"/>.</summary>
internal static class ShardFiles
{
    public static async Task<ShardReader<TRow>> OpenAsync<TRow>(IShardTable<TRow> table, string path, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        try
        {
            return await ShardReader<TRow>.OpenAsync(table, stream, leaveOpen: false, path, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
