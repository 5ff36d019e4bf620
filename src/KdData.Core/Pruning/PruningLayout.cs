using KdData.Models;

namespace KdData.Pruning;

/// <summary>The channel groups of one architecture (see <see cref="PruningLayouts"/>) and how new group sizes map back to a <see cref="ModelSpec"/>.</summary>
public sealed class PruningLayout
{
    public PruningLayout(ModelSpec spec, IReadOnlyList<int> channels, IReadOnlyList<ChannelGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Spec = spec;
        Channels = channels;
        Groups = groups;
    }

    /// <summary>The architecture the groups describe.</summary>
    public ModelSpec Spec { get; }

    /// <summary>Its widths in <see cref="ModelSpec.Channels"/> order (the defaults when it has not been pruned yet).</summary>
    public IReadOnlyList<int> Channels { get; }

    /// <summary>The groups; every slot of <see cref="Channels"/> belongs to exactly one.</summary>
    public IReadOnlyList<ChannelGroup> Groups { get; }

    /// <summary>The architecture with group <c>g</c> reduced to <paramref name="sizes"/>[g] channels.</summary>
    public ModelSpec WithSizes(IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Count != Groups.Count)
        {
            throw new ArgumentException($"Expected {Groups.Count} group sizes, got {sizes.Count}.", nameof(sizes));
        }
        var channels = Channels.ToArray();
        for (var g = 0; g < Groups.Count; g++)
        {
            foreach (var slot in Groups[g].Slots)
            {
                channels[slot] = sizes[g];
            }
        }
        return Spec with { Channels = channels };
    }
}
