using KdData.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// MobileNetV2's inverted residual block with free widths (for <see cref="PrunableMobileNetV2"/>): 1x1 expansion
/// conv-BN-ReLU6 (absent when the expansion ratio is 1), 3x3 depthwise conv-BN-ReLU6 over the hidden channels,
/// 1x1 linear projection conv-BN, plus the input when the block is residual. State-dict names are TorchVision's
/// (<c>conv.0.0</c>, <c>conv.0.1</c>, ... <c>conv.3</c>).
/// </summary>
internal sealed class PrunableInvertedResidual : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _conv;
    private readonly bool _residual;

    // Whether the block adds its input is decided by the unpruned architecture and passed in: pruning keeps a
    // residual block's input and output widths equal (they are one channel group), and never makes a plain block residual.
    public PrunableInvertedResidual(long channelsIn, long hidden, long channelsOut, long stride, bool expand, bool residual)
        : base("InvertedResidual")
    {
        _residual = residual;
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (expand)
        {
            layers.Add(PrunableMobileNetV2.ConvBnRelu6(channelsIn, hidden, 1, 1, 1));
        }
        layers.Add(PrunableMobileNetV2.ConvBnRelu6(hidden, hidden, 3, stride, hidden));
        var project = nn.Conv2d(hidden, channelsOut, 1, bias: false);
        nn.init.kaiming_normal_(project.weight!, mode: nn.init.FanInOut.FanOut);
        layers.Add(project);
        layers.Add(nn.BatchNorm2d(channelsOut));
        _conv = nn.Sequential(layers);
        register_module("conv", _conv);
    }

    /// <summary>Whether the block adds its input to its output (for exporters, which cannot read it off the pruned widths).</summary>
    internal bool Residual => _residual;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _conv.call(input);
        // A held alpha: TorchSharp's add(Tensor) passes an implicit Scalar 1 (see HeldScalars).
        return (_residual ? HeldScalars.Add(x, input) : x).MoveToOuterDisposeScope();
    }
}
