using KdData.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// Pre-activation residual block of a Wide-ResNet (Zagoruyko and Komodakis, 2016): BN-ReLU-conv3x3,
/// BN-ReLU-(dropout)-conv3x3, with a 1x1 projection shortcut when the shape changes.
/// </summary>
internal sealed class WideBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _bn1;
    private readonly nn.Module<Tensor, Tensor> _conv1;
    private readonly nn.Module<Tensor, Tensor> _bn2;
    private readonly nn.Module<Tensor, Tensor> _dropout;
    private readonly nn.Module<Tensor, Tensor> _conv2;
    private readonly nn.Module<Tensor, Tensor>? _shortcut;

    // channelsInner is the width between the two convolutions (differs from channelsOut once pruned). Whether the
    // block has a projection shortcut is given explicitly: a pruned block keeps the structure of the block it was cut
    // from even when its input and output widths happen to become equal.
    public WideBasicBlock(long channelsIn, long channelsInner, long channelsOut, long stride, double dropRate, bool shortcut)
        : base(nameof(WideBasicBlock))
    {
        _bn1 = nn.BatchNorm2d(channelsIn);
        _conv1 = Conv3x3(channelsIn, channelsInner, stride);
        _bn2 = nn.BatchNorm2d(channelsInner);
        _dropout = dropRate > 0 ? nn.Dropout(dropRate) : nn.Identity();
        _conv2 = Conv3x3(channelsInner, channelsOut, 1);
        register_module("bn1", _bn1);
        register_module("conv1", _conv1);
        register_module("bn2", _bn2);
        register_module("dropout", _dropout);
        register_module("conv2", _conv2);
        if (shortcut)
        {
            var projection = nn.Conv2d(channelsIn, channelsOut, kernel_size: 1, stride: stride, padding: 0L, bias: false);
            nn.init.kaiming_normal_(projection.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            _shortcut = projection;
            register_module("shortcut", _shortcut);
        }
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var preActivated = nn.functional.relu(_bn1.call(input));
        var x = _conv1.call(preActivated);
        x = _conv2.call(_dropout.call(nn.functional.relu(_bn2.call(x))));
        // The projection sees the pre-activated input, as in the reference implementation.
        var identity = _shortcut is null ? input : _shortcut.call(preActivated);
        // A held alpha: TorchSharp's add(Tensor) passes an implicit Scalar 1 (see HeldScalars).
        return HeldScalars.Add(x, identity).MoveToOuterDisposeScope();
    }

    private static Conv2d Conv3x3(long channelsIn, long channelsOut, long stride)
    {
        var conv = nn.Conv2d(channelsIn, channelsOut, kernel_size: 3, stride: stride, padding: 1, bias: false);
        nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        return conv;
    }
}
