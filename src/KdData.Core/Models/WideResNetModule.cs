using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The <c>wrn</c> family, WRN-(6n+4)-k for small inputs: conv3x3 to 16 channels, three groups of n
/// <see cref="WideBasicBlock"/>s with 16k, 32k, 64k channels (strides 1, 2, 2), BN-ReLU, global average pool,
/// linear. State-dict names: <c>conv1</c>, <c>block1.0.bn1</c> ... <c>block3.{n-1}.conv2</c>, <c>bn</c>, <c>fc</c>.
/// </summary>
internal sealed class WideResNetModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _conv1;
    private readonly Sequential[] _groups;
    private readonly nn.Module<Tensor, Tensor> _bn;
    private readonly nn.Module<Tensor, Tensor> _fc;

    // channels: widths in ModelSpec.Channels order: the stem, the residual stream of each of the three groups, then the
    // inner width (between its two convolutions) of every block, group by group.
    public WideResNetModule(long inChannels, long numClasses, int blocksPerGroup, int widenFactor, double dropRate, IReadOnlyList<int> channels)
        : base("WideResNet")
    {
        long[] widths = [channels[0], channels[1], channels[2], channels[3]];
        var conv1 = nn.Conv2d(inChannels, widths[0], kernel_size: 3, stride: 1, padding: 1, bias: false);
        nn.init.kaiming_normal_(conv1.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        _conv1 = conv1;
        register_module("conv1", _conv1);

        _groups = new Sequential[3];
        for (var g = 0; g < 3; g++)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>(blocksPerGroup);
            for (var b = 0; b < blocksPerGroup; b++)
            {
                var channelsIn = b == 0 ? widths[g] : widths[g + 1];
                var stride = b == 0 && g > 0 ? 2 : 1;
                blocks.Add(new WideBasicBlock(channelsIn, channels[4 + (g * blocksPerGroup) + b], widths[g + 1], stride, dropRate,
                    HasShortcut(g, b, widenFactor)));
            }
            _groups[g] = nn.Sequential(blocks);
            register_module($"block{g + 1}", _groups[g]);
        }

        _bn = nn.BatchNorm2d(widths[3]);
        var fc = nn.Linear(widths[3], numClasses);
        nn.init.zeros_(fc.bias!);
        _fc = fc;
        register_module("bn", _bn);
        register_module("fc", _fc);
    }

    /// <summary>
    /// Whether block <paramref name="block"/> of group <paramref name="group"/> (0-based) has a projection shortcut:
    /// the first block of every group changes the shape (stride 2, or 16 -> 16k channels), except in group 1 when k = 1.
    /// </summary>
    public static bool HasShortcut(int group, int block, int widenFactor) => block == 0 && (group > 0 || widenFactor != 1);

    /// <summary>Widths of an unpruned WRN in <see cref="ModelSpec.Channels"/> order.</summary>
    public static int[] DefaultChannels(int blocksPerGroup, int widenFactor)
    {
        int[] streams = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
        return [.. streams, .. Enumerable.Range(0, 3).SelectMany(g => Enumerable.Repeat(streams[g + 1], blocksPerGroup))];
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _conv1.call(input);
        foreach (var group in _groups)
        {
            x = group.call(x);
        }
        x = nn.functional.relu(_bn.call(x));
        x = flatten(nn.functional.adaptive_avg_pool2d(x, [1, 1]), 1);
        return _fc.call(x).MoveToOuterDisposeScope();
    }
}
