using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// MobileNetV2 (Sandler et al., 2018) with every width given explicitly, for pruned <c>mobilenet_v2</c> checkpoints
/// (<see cref="ModelSpec.Channels"/> set): TorchVision's builder only takes a global width multiplier. Same layers,
/// forward pass and state-dict names as TorchVision's (<c>features.0</c> stem, <c>features.1-17</c> inverted
/// residuals, <c>features.18</c> 1x1 conv to the last width, <c>classifier.1</c> linear after dropout 0.2), so an
/// unpruned width list reproduces the TorchVision model exactly.
/// <see cref="ModelSpec.Channels"/> order: the stem, then per block its hidden (depthwise) width and its output width,
/// then the last conv's width (36 entries).
/// </summary>
internal sealed class PrunableMobileNetV2 : nn.Module<Tensor, Tensor>
{
    /// <summary>TorchVision's inverted-residual setting: expansion t, channels c, repeats n, first stride s.</summary>
    private static readonly (int T, int C, int N, int S)[] Setting =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    private readonly Sequential _features;
    private readonly Sequential _classifier;

    public PrunableMobileNetV2(long inChannels, long numClasses, double widthMult, IReadOnlyList<int> channels) : base(nameof(MobileNetV2))
    {
        var blocks = Blocks(widthMult);
        var layers = new List<nn.Module<Tensor, Tensor>> { ConvBnRelu6(inChannels, channels[0], 3, 2, 1) };
        long previous = channels[0];
        for (var i = 0; i < blocks.Count; i++)
        {
            var block = blocks[i];
            var hidden = channels[HiddenSlot(i)];
            var output = channels[OutputSlot(i)];
            layers.Add(new PrunableInvertedResidual(previous, hidden, output, block.Stride, block.Expand, block.Residual));
            previous = output;
        }
        layers.Add(ConvBnRelu6(previous, channels[^1], 1, 1, 1));
        _features = nn.Sequential(layers);
        var fc = nn.Linear(channels[^1], numClasses);
        nn.init.normal_(fc.weight!, 0, 0.01);
        nn.init.zeros_(fc.bias!);
        _classifier = nn.Sequential(nn.Dropout(0.2), fc);
        register_module("features", _features);
        register_module("classifier", _classifier);
    }

    /// <summary>One inverted residual block of the unpruned net: widths, stride, whether it expands and whether it adds its input.</summary>
    internal sealed record Block(int In, int Hidden, int Out, int Stride, bool Expand, bool Residual);

    /// <summary>Position of block <paramref name="block"/>'s (0-based) hidden width in <see cref="ModelSpec.Channels"/>.</summary>
    public static int HiddenSlot(int block) => 1 + (2 * block);

    /// <summary>Position of block <paramref name="block"/>'s (0-based) output width in <see cref="ModelSpec.Channels"/>.</summary>
    public static int OutputSlot(int block) => 2 + (2 * block);

    /// <summary>The 17 blocks of TorchVision's MobileNetV2 at <paramref name="widthMult"/>.</summary>
    public static IReadOnlyList<Block> Blocks(double widthMult)
    {
        var blocks = new List<Block>();
        var input = MakeDivisible(32 * widthMult);
        foreach (var (t, c, n, s) in Setting)
        {
            var output = MakeDivisible(c * widthMult);
            for (var i = 0; i < n; i++)
            {
                var stride = i == 0 ? s : 1;
                blocks.Add(new Block(input, (int)Math.Round(input * (double)t, MidpointRounding.ToEven), output, stride, t != 1, stride == 1 && input == output));
                input = output;
            }
        }
        return blocks;
    }

    /// <summary>Widths of the unpruned net in <see cref="ModelSpec.Channels"/> order.</summary>
    public static int[] DefaultChannels(double widthMult)
    {
        var blocks = Blocks(widthMult);
        return [MakeDivisible(32 * widthMult), .. blocks.SelectMany(b => new[] { b.Hidden, b.Out }), MakeDivisible(1280 * Math.Max(1.0, widthMult))];
    }

    internal static Sequential ConvBnRelu6(long channelsIn, long channelsOut, long kernel, long stride, long groups)
    {
        var conv = nn.Conv2d(channelsIn, channelsOut, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false);
        nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut);
        return nn.Sequential(conv, nn.BatchNorm2d(channelsOut), nn.ReLU6(inplace: true));
    }

    // TorchVision's _make_divisible(v, 8): round to a multiple of 8, at least 8, never more than 10 % below v.
    private static int MakeDivisible(double value)
    {
        var rounded = Math.Max(8, (int)(value + 4) / 8 * 8);
        return rounded < 0.9 * value ? rounded + 8 : rounded;
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _features.call(input);
        x = flatten(nn.functional.adaptive_avg_pool2d(x, [1, 1]), 1);
        return _classifier.call(x).MoveToOuterDisposeScope();
    }
}
