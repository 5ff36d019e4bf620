namespace KdData.Export;

/// <summary>How <see cref="Int8VariantCheck"/> runs and what it holds the int8 model to (<c>export</c>'s settings).</summary>
public sealed record Int8VariantCheckOptions
{
    /// <summary>Intra-op threads of the float reference session (the same count as every measured engine).</summary>
    public required int Threads { get; init; }

    /// <summary>Images per forward pass.</summary>
    public required int BatchSize { get; init; }

    /// <summary>The least top-1 agreement of the int8 kernels with the model's float computation.</summary>
    public required double MinAgreement { get; init; }

    /// <summary>Keep (and publish) an int8 model under <see cref="MinAgreement"/> anyway.</summary>
    public bool AcceptLow { get; init; }
}
