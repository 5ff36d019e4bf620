namespace KdData.Storage;

/// <summary>A location string (from configuration) could not be parsed or does not fit the storage settings.</summary>
public sealed class InvalidStorageLocationException : Exception
{
    public InvalidStorageLocationException()
    {
    }

    public InvalidStorageLocationException(string message)
        : base(message)
    {
    }

    public InvalidStorageLocationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InvalidStorageLocationException(string location, string reason, Exception? innerException)
        : base($"Invalid storage location '{StorageLocation.Redact(location)}': {reason}.", innerException)
    {
        Location = StorageLocation.Redact(location);
    }

    /// <summary>The offending location, with any query string or credential-like content removed.</summary>
    public string? Location { get; }
}
