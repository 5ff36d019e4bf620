namespace KdData.Storage;

/// <summary>
/// A storage operation failed for a reason that is not about the key's state: the backend kept failing
/// after the retry budget, the circuit breaker is open, access was denied, or configuration is wrong.
/// The message names the operation, key and location, plus status/error code; never secrets.
/// The original exception is kept as <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class StorageOperationException : ObjectStoreException
{
    public StorageOperationException()
    {
    }

    public StorageOperationException(string message)
        : base(message)
    {
    }

    public StorageOperationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StorageOperationException(string operation, string? key, string location, string reason, Exception? innerException)
        : base(
            key is null
                ? $"Storage operation '{operation}' on '{location}' failed: {reason}."
                : $"Storage operation '{operation}' on key '{InvalidObjectKeyException.Printable(key)}' in '{location}' failed: {reason}.",
            key,
            innerException)
    {
        Operation = operation;
        Location = location;
    }

    /// <summary>Name of the failed operation (e.g. "Create", "List").</summary>
    public string? Operation { get; }

    /// <summary>The store location (secrets removed).</summary>
    public string? Location { get; }
}
