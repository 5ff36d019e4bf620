namespace KdData.Storage;

/// <summary>A create-only write found an object already stored under the key.</summary>
public sealed class ObjectAlreadyExistsException : ObjectStoreException
{
    public ObjectAlreadyExistsException()
    {
    }

    public ObjectAlreadyExistsException(string message)
        : base(message)
    {
    }

    public ObjectAlreadyExistsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ObjectAlreadyExistsException(string key, string location, Exception? innerException)
        : base($"Object '{key}' already exists in '{location}' (create-only write).", key, innerException)
    {
        Location = location;
    }

    /// <summary>The store location (secrets removed), when known.</summary>
    public string? Location { get; }
}
