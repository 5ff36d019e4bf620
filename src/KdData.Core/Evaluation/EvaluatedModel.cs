namespace KdData.Evaluation;

/// <summary>Which checkpoint was evaluated, as recorded in <c>evaluation.json</c>.</summary>
public sealed record EvaluatedModel
{
    /// <summary>Path of the checkpoint record.</summary>
    public required string Path { get; init; }

    /// <summary>First 16 hex digits of the weights' SHA-256 (the id the Labeler uses for a teacher).</summary>
    public required string Id { get; init; }

    /// <summary>Architecture name (see <c>ModelZoo</c>).</summary>
    public required string Architecture { get; init; }

    /// <summary>Number of parameters.</summary>
    public required long Parameters { get; init; }

    /// <summary>Multiply-accumulates of one forward pass of one image (see <c>ModelComplexity</c>); null when the record has no input size.</summary>
    public long? Macs { get; init; }
}
