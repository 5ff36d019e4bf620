using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// TorchVision's MobileNetV2 with a first convolution for another input channel count. The TorchVision class
/// calls its children through private fields, so this module takes them over under the same names
/// (<c>features</c>, <c>classifier</c>) and repeats MobileNetV2's forward pass; state-dict names stay PyTorch's.
/// </summary>
internal sealed class InputAdaptedMobileNetV2 : nn.Module<Tensor, Tensor>
{
    private readonly Sequential _features;
    private readonly nn.Module<Tensor, Tensor> _classifier;

    public InputAdaptedMobileNetV2(MobileNetV2 source, long inChannels) : base(nameof(MobileNetV2))
    {
        var children = source.named_children().ToDictionary(c => c.name, c => c.module);
        var blocks = children["features"].named_children().Select(c => (nn.Module<Tensor, Tensor>)c.module).ToList();

        // features.0 is Conv2dNormActivation = (conv, norm, activation); only its conv depends on the input.
        var stem = blocks[0].named_children().Select(c => (nn.Module<Tensor, Tensor>)c.module).ToList();
        Debug.Assert(stem.Count == 3, "MobileNetV2 stem is expected to be conv, norm, activation.");
        var oldConv = (Conv2d)stem[0];
        var conv = nn.Conv2d(inChannels, oldConv.weight!.shape[0], kernel_size: 3, stride: 2, padding: 1, bias: false);
        nn.init.kaiming_normal_(conv.weight!, mode: nn.init.FanInOut.FanOut);
        oldConv.Dispose();
        blocks[0] = nn.Sequential(conv, stem[1], stem[2]);

        _features = nn.Sequential(blocks);
        _classifier = (nn.Module<Tensor, Tensor>)children["classifier"];
        register_module("features", _features);
        register_module("classifier", _classifier);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _features.call(input);
        // Same head as TorchVision: global average pool, flatten, dropout + linear.
        x = nn.functional.adaptive_avg_pool2d(x, [1, 1]);
        x = flatten(x, 1);
        return _classifier.call(x).MoveToOuterDisposeScope();
    }
}
