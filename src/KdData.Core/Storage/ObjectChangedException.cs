namespace KdData.Storage;

/// <summary>A conditional replace failed because the object changed (or was deleted) since its ETag was read.</summary>
public sealed class ObjectChangedException : ObjectStoreException
{
    public ObjectChangedException()
    {
    }

    public ObjectChangedException(string message)
        : base(message)
    {
    }

    public ObjectChangedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ObjectChangedException(string key, string location, Exception? innerException)
        : base($"Object '{key}' in '{location}' was changed or deleted since the given ETag was read; reload it and retry.", key, innerException)
    {
        Location = location;
    }

    /// <summary>The store location (secrets removed), when known.</summary>
    public string? Location { get; }
}
