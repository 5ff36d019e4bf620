namespace KdData.Storage;

/// <summary>
/// Base of the typed storage errors. Messages name the key and location but never contain secrets
/// (account keys, SAS signatures, connection strings).
/// </summary>
public abstract class ObjectStoreException : Exception
{
    protected ObjectStoreException()
    {
    }

    protected ObjectStoreException(string message)
        : base(message)
    {
    }

    protected ObjectStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    protected ObjectStoreException(string message, string? key, Exception? innerException)
        : base(message, innerException)
    {
        Key = key;
    }

    /// <summary>The key the failed operation was about, when there was one.</summary>
    public string? Key { get; }
}
