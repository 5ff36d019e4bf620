namespace KdData.Storage;

/// <summary>The object does not exist.</summary>
public sealed class ObjectNotFoundException : ObjectStoreException
{
    public ObjectNotFoundException()
    {
    }

    public ObjectNotFoundException(string message)
        : base(message)
    {
    }

    public ObjectNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ObjectNotFoundException(string key, string location, Exception? innerException)
        : base($"Object '{key}' does not exist in '{location}'.", key, innerException)
    {
        Location = location;
    }

    /// <summary>The store location (secrets removed), when known.</summary>
    public string? Location { get; }
}
