namespace KdData.SoftTargets;

/// <summary>Entry points for soft-target shards (one <see cref="SoftTargetRow"/> per image view).</summary>
public static class SoftTargetShard
{
    /// <summary>Starts a shard on <paramref name="stream"/> (writable and seekable, e.g. a file; left open).</summary>
    /// <param name="stream">Destination of the Parquet file.</param>
    /// <param name="metadata">Footer key-value metadata, e.g. <c>kddata.teacher</c> (JSON) and <c>kddata.version</c>.</param>
    /// <param name="options">Row-group size and row limit.</param>
    /// <param name="cancellationToken">Cancels writing the file header.</param>
    public static Task<ShardWriter<SoftTargetRow>> CreateWriterAsync(
        Stream stream,
        IReadOnlyDictionary<string, string>? metadata,
        ShardOptions options,
        CancellationToken cancellationToken = default) =>
        ShardWriter<SoftTargetRow>.CreateAsync(SoftTargetTable.Instance, stream, metadata, options, cancellationToken);

    /// <summary>Opens a shard from a readable, seekable stream, which stays open after the reader is disposed.</summary>
    /// <exception cref="InvalidDataException">The stream is not a Parquet file with the soft-target columns.</exception>
    public static Task<ShardReader<SoftTargetRow>> OpenReaderAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ShardReader<SoftTargetRow>.OpenAsync(SoftTargetTable.Instance, stream, leaveOpen: true, "stream", cancellationToken);

    /// <summary>Opens a shard file; the file is closed when the reader is disposed.</summary>
    /// <exception cref="InvalidDataException">The file is not a Parquet file with the soft-target columns.</exception>
    public static Task<ShardReader<SoftTargetRow>> OpenReaderAsync(string path, CancellationToken cancellationToken = default) =>
        ShardFiles.OpenAsync(SoftTargetTable.Instance, path, cancellationToken);
}
