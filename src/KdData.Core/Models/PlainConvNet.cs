using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The <c>convnet</c> family: <c>depth</c> blocks of conv3x3-BN-ReLU-maxpool2 with channels width, 2w, 4w, 8w
/// (capped at 8w), then global average pooling, optional dropout (rate &gt; 0 only) and a linear layer. State-dict
/// names are those of the PyTorch module <c>features = nn.Sequential(nn.Sequential(conv, bn, relu, pool), ...);
/// fc = nn.Linear</c>; dropout has no weights, so a checkpoint loads the same with or without it.
/// A pruned net gives each block's channel count explicitly (<see cref="ModelSpec.Channels"/>).
/// </summary>
internal sealed class PlainConvNet : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _features;
    private readonly nn.Module<Tensor, Tensor> _pool;
    private readonly nn.Module<Tensor, Tensor> _fc;
    private readonly nn.Module<Tensor, Tensor>? _dropout;

    public PlainConvNet(long inChannels, long numClasses, IReadOnlyList<int> channels, double dropRate = 0) : base(nameof(PlainConvNet))
    {
        var depth = channels.Count;
        var blocks = new List<nn.Module<Tensor, Tensor>>(depth);
        var channelsIn = inChannels;
        long channelsOut = inChannels;
        for (var i = 0; i < depth; i++)
        {
            channelsOut = channels[i];
            var conv = nn.Conv2d(channelsIn, channelsOut, kernel_size: 3, stride: 1, padding: 1, bias: false);
            nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            // ceil_mode keeps a 1x1 map at 1x1, so deep nets on 28 px inputs do not collapse to zero size.
            blocks.Add(nn.Sequential(conv, nn.BatchNorm2d(channelsOut), nn.ReLU(inplace: true),
                nn.MaxPool2d(kernel_size: 2, stride: 2, ceil_mode: true)));
            channelsIn = channelsOut;
        }
        _features = nn.Sequential(blocks);
        _pool = nn.AdaptiveAvgPool2d([1, 1]);
        var fc = nn.Linear(channelsOut, numClasses);
        nn.init.zeros_(fc.bias!);
        _fc = fc;
        register_module("features", _features);
        register_module("pool", _pool);
        register_module("fc", _fc);
        if (dropRate > 0)
        {
            // Active in training mode only (the TrainingLoop's train()/eval() switch), so inference is unchanged.
            _dropout = nn.Dropout(dropRate);
            register_module("dropout", _dropout);
        }
    }

    /// <summary>Output channels of each block of an unpruned net: width, 2w, 4w, 8w, 8w, ...</summary>
    public static int[] DefaultChannels(int width, int depth) =>
        [.. Enumerable.Range(0, depth).Select(i => width * (1 << Math.Min(i, 3)))];

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = flatten(_pool.call(_features.call(input)), 1);
        if (_dropout is not null)
        {
            x = _dropout.call(x);
        }
        return _fc.call(x).MoveToOuterDisposeScope();
    }
}
