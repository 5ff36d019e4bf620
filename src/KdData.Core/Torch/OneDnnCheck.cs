namespace KdData.Torch;

/// <summary>
/// The outcome of <see cref="OneDnnSelfTest.Check"/> for one model: whether oneDNN's outputs (and gradients) agreed
/// with ATen's kernels at every batch size tried, and the worst relative difference seen.
/// </summary>
public sealed record OneDnnCheck
{
    /// <summary>What was checked, for messages (for example <c>convnet</c>).</summary>
    public required string Model { get; init; }

    /// <summary>True when every output and gradient agreed within <see cref="OneDnnSelfTest.Tolerance"/>.</summary>
    public required bool Agrees { get; init; }

    /// <summary>The worst difference, relative to the largest magnitude of the ATen result it was compared with.</summary>
    public required double WorstRelativeError { get; init; }

    /// <summary>The batch sizes tried.</summary>
    public required IReadOnlyList<int> BatchSizes { get; init; }

    /// <summary>Where the worst difference was: <c>output</c> or a parameter's name, and the batch size.</summary>
    public required string Worst { get; init; }

    /// <summary>Whether gradients were compared too (a model that is trained) or only outputs (inference).</summary>
    public required bool Gradients { get; init; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Model} at batch {string.Join(", ", BatchSizes)}{(Gradients ? ", outputs and gradients" : ", outputs")}: " +
        $"worst relative difference {WorstRelativeError:E1} ({Worst})";
}
