namespace KdData.Imaging;

/// <summary>
/// An image could not be decoded. <see cref="Reason"/> is one of the stable codes in
/// <see cref="ImageDecodeReason"/>; <see cref="Key"/> names the image (storage key or path).
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException()
        : this("(unknown)", ImageDecodeReason.Corrupt, "image could not be decoded")
    {
    }

    public ImageDecodeException(string message)
        : this("(unknown)", ImageDecodeReason.Corrupt, message)
    {
    }

    public ImageDecodeException(string message, Exception innerException)
        : this("(unknown)", ImageDecodeReason.Corrupt, message, innerException)
    {
    }

    public ImageDecodeException(string key, string reason, string detail, Exception? innerException = null)
        : base($"Image '{key}' could not be decoded ({reason}): {detail}", innerException)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Key = key;
        Reason = reason;
        Detail = detail;
    }

    /// <summary>The key (path or blob name) of the image that failed.</summary>
    public string Key { get; }

    /// <summary>A stable code from <see cref="ImageDecodeReason"/>.</summary>
    public string Reason { get; }

    /// <summary>Human-readable detail without the key and code.</summary>
    public string Detail { get; }
}
