namespace KdData.Storage;

/// <summary>
/// The store's root does not exist: an Azure container that was never created, or a local root folder that does not
/// exist. Listing reports it instead of an empty page, because a location that does not exist is almost always a
/// misspelt one, and reading it as "nothing there" would let a job finish successfully having done nothing.
/// Writes create the root, so a store that has been written to always lists.
/// </summary>
public sealed class StoreNotFoundException : ObjectStoreException
{
    public StoreNotFoundException()
    {
    }

    public StoreNotFoundException(string message)
        : base(message)
    {
    }

    public StoreNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StoreNotFoundException(string location, string what, Exception? innerException)
        : base($"Location '{location}' does not exist ({what}); check the location, or write to it first.", null, innerException)
    {
        Location = location;
    }

    /// <summary>The store location (secrets removed), when known.</summary>
    public string? Location { get; }
}
