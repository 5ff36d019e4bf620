using System.Globalization;
using KdData.Models;

namespace KdData.Pruning;

/// <summary>
/// The channel groups of each family that can be pruned, named by state-dict tensor and axis:
/// <list type="bullet">
/// <item><c>convnet</c>: one group per block (its conv's filters, its BatchNorm, the next conv's inputs or the
/// classifier's inputs). <see cref="ModelSpec.Channels"/> = the blocks' widths.</item>
/// <item><c>wrn</c> (pre-activation residual): per group of blocks one residual stream (every block's second conv and
/// the projection shortcut add into it; it is read by the next blocks' BN1/conv1, the next group's shortcut, and at the
/// end by the final BN and the classifier), plus each block's inner width (conv1's filters, BN2, conv2's inputs).
/// With widen factor 1 the stem adds straight into the first stream and is joined with it.
/// <see cref="ModelSpec.Channels"/> = stem, three streams, then every block's inner width.</item>
/// <item><c>mobilenet_v2</c> (depthwise, inverted residual): per block a hidden group (the expansion conv's filters,
/// both BatchNorms, the depthwise conv — whose channels follow its input — and the projection's inputs) and an output
/// group; the outputs of blocks joined by a residual addition (and a non-expanding block's input and depthwise conv)
/// are one group. <see cref="ModelSpec.Channels"/> = stem, then each block's hidden and output widths, then the last
/// conv's width.</item>
/// </list>
/// Other families (the TorchVision resnets) throw <see cref="NotSupportedException"/> ("pruning &lt;family&gt; is not
/// supported"): TorchVision builds them with fixed widths, so a pruned one could not be rebuilt from its record.
/// </summary>
public static class PruningLayouts
{
    /// <summary>The families this build can prune.</summary>
    public static IReadOnlyList<string> Supported { get; } = [ModelFamilies.ConvNet, ModelFamilies.WideResNet, ModelFamilies.MobileNetV2];

    /// <summary>The layout of <paramref name="spec"/> (pruned or not).</summary>
    /// <exception cref="NotSupportedException">The family cannot be pruned.</exception>
    public static PruningLayout For(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var name = spec.Name.Trim().ToLowerInvariant();
        return name switch
        {
            ModelFamilies.ConvNet => ConvNet(spec with { Name = name }),
            ModelFamilies.WideResNet => WideResNet(spec with { Name = name }),
            ModelFamilies.MobileNetV2 => MobileNetV2(spec with { Name = name }),
            _ => throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"pruning {spec.Name} is not supported; supported families: {string.Join(", ", Supported)}")),
        };
    }

    private static PruningLayout ConvNet(ModelSpec spec)
    {
        var channels = spec.Channels ?? PlainConvNet.DefaultChannels(spec.Width ?? 32, spec.Depth ?? 3);
        var groups = new List<ChannelGroup>(channels.Count);
        for (var i = 0; i < channels.Count; i++)
        {
            var axes = new List<TensorAxis> { new($"features.{i}.0.weight", 0) };
            axes.AddRange(BatchNorm($"features.{i}.1"));
            axes.Add(i + 1 < channels.Count ? new($"features.{i + 1}.0.weight", 1) : new("fc.weight", 1));
            groups.Add(new ChannelGroup { Name = $"features.{i}", Size = channels[i], Slots = [i], Axes = axes });
        }
        return new PruningLayout(spec, channels, groups);
    }

    private static PruningLayout WideResNet(ModelSpec spec)
    {
        var widen = spec.WidenFactor ?? 2;
        var blocks = ((spec.Depth ?? 16) - 4) / 6;
        var channels = spec.Channels ?? WideResNetModule.DefaultChannels(blocks, widen);
        var stemJoined = !WideResNetModule.HasShortcut(0, 0, widen);

        // Readers of a stream (or of the stem): BN1 and conv1 of the blocks taking it as input, and projections.
        static IEnumerable<TensorAxis> BlockInput(string block, bool shortcut)
        {
            foreach (var axis in BatchNorm($"{block}.bn1"))
            {
                yield return axis;
            }
            yield return new($"{block}.conv1.weight", 1);
            if (shortcut)
            {
                yield return new($"{block}.shortcut.weight", 1);
            }
        }

        var groups = new List<ChannelGroup>();
        var stem = new List<TensorAxis> { new("conv1.weight", 0) };
        stem.AddRange(BlockInput("block1.0", !stemJoined));
        if (!stemJoined)
        {
            groups.Add(new ChannelGroup { Name = "stem", Size = channels[0], Slots = [0], Axes = stem });
        }

        for (var g = 0; g < 3; g++)
        {
            var axes = new List<TensorAxis>();
            List<int> slots = [1 + g];
            if (g == 0 && stemJoined)
            {
                axes.AddRange(stem);
                slots.Insert(0, 0);
            }
            for (var b = 0; b < blocks; b++)
            {
                var block = $"block{g + 1}.{b}";
                axes.Add(new($"{block}.conv2.weight", 0));
                if (WideResNetModule.HasShortcut(g, b, widen))
                {
                    axes.Add(new($"{block}.shortcut.weight", 0));
                }
                if (b + 1 < blocks)
                {
                    axes.AddRange(BlockInput($"block{g + 1}.{b + 1}", WideResNetModule.HasShortcut(g, b + 1, widen)));
                }
            }
            if (g < 2)
            {
                axes.AddRange(BlockInput($"block{g + 2}.0", WideResNetModule.HasShortcut(g + 1, 0, widen)));
            }
            else
            {
                axes.AddRange(BatchNorm("bn"));
                axes.Add(new("fc.weight", 1));
            }
            groups.Add(new ChannelGroup { Name = $"block{g + 1}.stream", Size = channels[1 + g], Slots = slots, Axes = axes });
        }

        for (var g = 0; g < 3; g++)
        {
            for (var b = 0; b < blocks; b++)
            {
                var block = $"block{g + 1}.{b}";
                var slot = 4 + (g * blocks) + b;
                List<TensorAxis> axes = [new($"{block}.conv1.weight", 0), .. BatchNorm($"{block}.bn2"), new($"{block}.conv2.weight", 1)];
                groups.Add(new ChannelGroup { Name = $"{block}.inner", Size = channels[slot], Slots = [slot], Axes = axes });
            }
        }
        return new PruningLayout(spec, channels, groups);
    }

    private static PruningLayout MobileNetV2(ModelSpec spec)
    {
        var widthMult = spec.WidthMult ?? 1.0;
        var channels = spec.Channels ?? PrunableMobileNetV2.DefaultChannels(widthMult);
        var blocks = PrunableMobileNetV2.Blocks(widthMult);
        var slots = channels.Count;
        var axes = Enumerable.Range(0, slots).Select(_ => new List<TensorAxis>()).ToArray();
        var parent = Enumerable.Range(0, slots).ToArray();
        int Find(int slot) => parent[slot] == slot ? slot : parent[slot] = Find(parent[slot]);
        void Join(int a, int b) => parent[Find(a)] = Find(b);

        axes[0].Add(new("features.0.0.weight", 0));
        axes[0].AddRange(BatchNorm("features.0.1"));
        for (var i = 0; i < blocks.Count; i++)
        {
            var prefix = $"features.{i + 1}.conv";
            var input = i == 0 ? 0 : PrunableMobileNetV2.OutputSlot(i - 1);
            var hidden = PrunableMobileNetV2.HiddenSlot(i);
            var output = PrunableMobileNetV2.OutputSlot(i);
            var layer = 0;
            if (blocks[i].Expand)
            {
                axes[input].Add(new($"{prefix}.0.0.weight", 1));
                axes[hidden].Add(new($"{prefix}.0.0.weight", 0));
                axes[hidden].AddRange(BatchNorm($"{prefix}.0.1"));
                layer = 1;
            }
            else
            {
                Join(hidden, input);
            }
            // The depthwise conv (one filter per channel, groups = channels) belongs to the hidden group.
            axes[hidden].Add(new($"{prefix}.{layer}.0.weight", 0));
            axes[hidden].AddRange(BatchNorm($"{prefix}.{layer}.1"));
            axes[hidden].Add(new($"{prefix}.{layer + 1}.weight", 1));
            axes[output].Add(new($"{prefix}.{layer + 1}.weight", 0));
            axes[output].AddRange(BatchNorm($"{prefix}.{layer + 2}"));
            if (blocks[i].Residual)
            {
                Join(output, input);
            }
        }
        var last = slots - 1;
        axes[PrunableMobileNetV2.OutputSlot(blocks.Count - 1)].Add(new($"features.{blocks.Count + 1}.0.weight", 1));
        axes[last].Add(new($"features.{blocks.Count + 1}.0.weight", 0));
        axes[last].AddRange(BatchNorm($"features.{blocks.Count + 1}.1"));
        axes[last].Add(new("classifier.1.weight", 1));

        var groups = Enumerable.Range(0, slots).GroupBy(Find).OrderBy(g => g.Min()).Select(g => new ChannelGroup
        {
            Name = SlotName(g.Min(), blocks.Count),
            Size = channels[g.Min()],
            Slots = [.. g.Order()],
            Axes = [.. g.Order().SelectMany(slot => axes[slot])],
        }).ToList();
        return new PruningLayout(spec, channels, groups);
    }

    private static string SlotName(int slot, int blocks) =>
        slot == 0 ? "features.0"
        : slot == (2 * blocks) + 1 ? $"features.{blocks + 1}"
        : slot % 2 == 1 ? $"features.{((slot - 1) / 2) + 1}.hidden" : $"features.{slot / 2}.out";

    private static IEnumerable<TensorAxis> BatchNorm(string prefix) =>
        [new($"{prefix}.weight", 0), new($"{prefix}.bias", 0), new($"{prefix}.running_mean", 0), new($"{prefix}.running_var", 0)];
}
