namespace KdData.Records;

/// <summary><c>quantization.json</c> <c>checkpoint</c>: which checkpoint was quantized.</summary>
public sealed record QuantizedCheckpoint
{
    /// <summary>Its record, as given.</summary>
    public required string Path { get; init; }

    /// <summary>First 16 hex digits of its weights' SHA-256; empty when its record had none.</summary>
    public required string Id { get; init; }

    /// <summary>Its architecture's name.</summary>
    public required string Architecture { get; init; }
}
