namespace KdData.Pruning;

/// <summary>How a channel's importance is measured; the least important channels are removed first.</summary>
public enum PruningCriterion
{
    /// <summary>
    /// L1 norm of the filters producing the channel (Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017),
    /// summed over every convolution writing into it when a residual addition joins several.
    /// </summary>
    L1,

    /// <summary>
    /// |gamma| of the BatchNorm layers normalising the channel (Liu et al., "Learning Efficient Convolutional Networks
    /// through Network Slimming", ICCV 2017), summed over every BatchNorm reading the channel.
    /// </summary>
    Bn,
}
