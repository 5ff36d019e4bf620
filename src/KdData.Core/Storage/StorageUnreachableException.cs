namespace KdData.Storage;

/// <summary>Storage did not answer for longer than the caller was willing to wait (for the Labeler, <c>Labeler:OutageLimit</c>).</summary>
public sealed class StorageUnreachableException : ObjectStoreException
{
    public StorageUnreachableException()
    {
    }

    public StorageUnreachableException(string message)
        : base(message)
    {
    }

    public StorageUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
