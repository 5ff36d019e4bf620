namespace KdData.Pipelines;

/// <summary>A stage of a channel pipeline failed; <see cref="Stage"/> names it, the inner exception says why.</summary>
public sealed class PipelineStageException : Exception
{
    public PipelineStageException()
    {
        Stage = string.Empty;
    }

    public PipelineStageException(string message)
        : base(message)
    {
        Stage = string.Empty;
    }

    public PipelineStageException(string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = string.Empty;
    }

    public PipelineStageException(string stage, string message, Exception innerException)
        : base(message, innerException)
    {
        Stage = stage;
    }

    /// <summary>Name of the stage that failed first.</summary>
    public string Stage { get; }
}
