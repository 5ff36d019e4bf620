namespace KdData.SoftTargets;

/// <summary>Entry points for error tables (one <see cref="ErrorRow"/> per failed object or view).</summary>
public static class ErrorShard
{
    /// <summary>Starts an error table on <paramref name="stream"/> (writable and seekable; left open).</summary>
    public static Task<ShardWriter<ErrorRow>> CreateWriterAsync(
        Stream stream,
        IReadOnlyDictionary<string, string>? metadata,
        ShardOptions options,
        CancellationToken cancellationToken = default) =>
        ShardWriter<ErrorRow>.CreateAsync(ErrorTable.Instance, stream, metadata, options, cancellationToken);

    /// <summary>Opens an error table from a readable, seekable stream, which stays open after the reader is disposed.</summary>
    /// <exception cref="InvalidDataException">The stream is not a Parquet file with the error-table columns.</exception>
    public static Task<ShardReader<ErrorRow>> OpenReaderAsync(Stream stream, CancellationToken cancellationToken = default) =>
        ShardReader<ErrorRow>.OpenAsync(ErrorTable.Instance, stream, leaveOpen: true, "stream", cancellationToken);

    /// <summary>Opens an error-table file; the file is closed when the reader is disposed.</summary>
    /// <exception cref="InvalidDataException">The file is not a Parquet file with the error-table columns.</exception>
    public static Task<ShardReader<ErrorRow>> OpenReaderAsync(string path, CancellationToken cancellationToken = default) =>
        ShardFiles.OpenAsync(ErrorTable.Instance, path, cancellationToken);
}
