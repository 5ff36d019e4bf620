namespace KdData.Pruning;

/// <summary>
/// A set of channels that must be pruned together: the outputs of one convolution and everything that reads them, or,
/// across a residual addition, the outputs of every convolution (and shortcut) added into the same stream; a depthwise
/// convolution's channels belong to the group of its input. Removing channel <c>i</c> of the group removes index
/// <c>i</c> along every <see cref="Axes"/> entry, which keeps all shapes consistent.
/// </summary>
public sealed record ChannelGroup
{
    /// <summary>Readable name for logs and lineage, e.g. <c>block2.stream</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Current number of channels.</summary>
    public required int Size { get; init; }

    /// <summary>Positions in <see cref="Models.ModelSpec.Channels"/> that hold this group's width (more than one when a group spans several of them).</summary>
    public required IReadOnlyList<int> Slots { get; init; }

    /// <summary>Every tensor axis indexed by the group's channels.</summary>
    public required IReadOnlyList<TensorAxis> Axes { get; init; }
}
