namespace KdData.PackedImages;

/// <summary>
/// A whole packed file cannot be read as its format: not a Parquet file or tar archive at all, no image column, an image
/// column that is not binary, or a row group too large to hold. Members read before it stay valid.
/// </summary>
public sealed class PackedFileException : Exception
{
    /// <summary>Creates the exception for <paramref name="key"/>.</summary>
    /// <param name="key">The object key of the file, as listed.</param>
    /// <param name="reason">Short machine-readable code, e.g. <c>not-parquet</c>, <c>no-image-column</c>.</param>
    /// <param name="detail">What was found, naming the file.</param>
    /// <param name="innerException">The reader's own failure, if any.</param>
    public PackedFileException(string key, string reason, string detail, Exception? innerException = null)
        : base($"'{key}': {detail}", innerException)
    {
        Key = key;
        Reason = reason;
        Detail = detail;
    }

    /// <summary>The object key of the file.</summary>
    public string Key { get; }

    /// <summary>Short machine-readable code.</summary>
    public string Reason { get; }

    /// <summary>What was found.</summary>
    public string Detail { get; }
}
