namespace KdData.Dataflow;

/// <summary>A stage of a dataflow of channels failed; <see cref="Stage"/> names it, the inner exception says why.</summary>
public sealed class StageFailedException : Exception
{
    public StageFailedException()
    {
        Stage = string.Empty;
    }

    public StageFailedException(string message)
        : base(message)
    {
        Stage = string.Empty;
    }

    public StageFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = string.Empty;
    }

    public StageFailedException(string stage, string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = stage;
    }

    /// <summary>Name of the stage that failed first.</summary>
    public string Stage { get; }
}
