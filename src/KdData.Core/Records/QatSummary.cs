namespace KdData.Records;

/// <summary><c>quantization.json</c> <c>qat</c>: the quantization-aware training the int8 model came from.</summary>
public sealed record QatSummary
{
    /// <summary>The QAT checkpoint record.</summary>
    public required string Checkpoint { get; init; }

    /// <summary>The checkpoint QAT started from.</summary>
    public required ParentCheckpoint Parent { get; init; }

    /// <summary>Epochs trained.</summary>
    public required int Epochs { get; init; }

    /// <summary>The loop's <c>metrics.jsonl</c>.</summary>
    public required string Metrics { get; init; }

    /// <summary>The learned [min, max] of every quantized activation, by tensor name.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<float>> LearnedRanges { get; init; }
}
