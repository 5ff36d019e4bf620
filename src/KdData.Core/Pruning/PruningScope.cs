namespace KdData.Pruning;

/// <summary>Where the pruning ratio applies.</summary>
public enum PruningScope
{
    /// <summary>
    /// One ranking over all channels of the network, each scored relative to its group's mean score (raw L1 norms and
    /// gammas are not comparable across layers of different fan-in); the ratio is the share of all channels removed,
    /// so unimportant layers shrink more.
    /// </summary>
    Global,

    /// <summary>Every channel group loses the same share of its channels.</summary>
    Layer,
}
