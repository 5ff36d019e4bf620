namespace KdData.Labeling;

/// <summary>
/// The partition's lease is held by another replica (a live one, or a killed one whose lease has not expired yet).
/// In claim mode the replica moves on to another partition; otherwise the run fails with this message.
/// </summary>
public sealed class PartitionBusyException : InvalidOperationException
{
    public PartitionBusyException()
    {
    }

    public PartitionBusyException(string message)
        : base(message)
    {
    }

    public PartitionBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
