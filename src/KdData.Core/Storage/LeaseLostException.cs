namespace KdData.Storage;

/// <summary>The lease is no longer held by its owner (expired and taken over, or the object was deleted).</summary>
public sealed class LeaseLostException : ObjectStoreException
{
    public LeaseLostException()
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LeaseLostException(string key, string location, Exception? innerException)
        : base($"The lease on '{key}' in '{location}' is no longer held; another worker may have taken it over.", key, innerException)
    {
        Location = location;
    }

    /// <summary>The store location (secrets removed), when known.</summary>
    public string? Location { get; }
}
