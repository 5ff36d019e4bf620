using System.Diagnostics;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// A TorchVision ResNet whose stem is replaced (other input channel count and/or the small-input stem).
/// TorchVision's <see cref="ResNet"/> calls its stem through private fields, so swapping a registered child
/// would change the state dict but not the computation; instead this module takes over the built children
/// under the same names and repeats ResNet's forward pass, so state-dict names stay PyTorch's.
/// </summary>
internal sealed class StemAdaptedResNet : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _conv1;
    private readonly nn.Module<Tensor, Tensor> _bn1;
    private readonly nn.Module<Tensor, Tensor> _relu;
    private readonly nn.Module<Tensor, Tensor> _maxpool;
    private readonly nn.Module<Tensor, Tensor>[] _layers;
    private readonly nn.Module<Tensor, Tensor> _avgpool;
    private readonly nn.Module<Tensor, Tensor> _flatten;
    private readonly nn.Module<Tensor, Tensor> _fc;

    public StemAdaptedResNet(ResNet source, long inChannels, bool smallStem) : base(nameof(ResNet))
    {
        var children = source.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        var oldConv = (Conv2d)children["conv1"];
        var stemChannels = oldConv.weight!.shape[0];

        _conv1 = smallStem
            ? nn.Conv2d(inChannels, stemChannels, kernel_size: 3, stride: 1, padding: 1, bias: false)
            : nn.Conv2d(inChannels, stemChannels, kernel_size: 7, stride: 2, padding: 3, bias: false);
        // Same initialization TorchVision applies to every convolution of a fresh ResNet.
        nn.init.kaiming_normal_(((Conv2d)_conv1).weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
        oldConv.Dispose();

        _bn1 = children["bn1"];
        _relu = children["relu"];
        _maxpool = smallStem ? nn.Identity() : children["maxpool"];
        _layers = [children["layer1"], children["layer2"], children["layer3"], children["layer4"]];
        _avgpool = children["avgpool"];
        _flatten = children["flatten"];
        _fc = children["fc"];

        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("relu", _relu);
        register_module("maxpool", _maxpool);
        for (var i = 0; i < _layers.Length; i++)
        {
            register_module($"layer{i + 1}", _layers[i]);
        }
        register_module("avgpool", _avgpool);
        register_module("flatten", _flatten);
        register_module("fc", _fc);
        Debug.Assert(children.Count == 11, "TorchVision ResNet is expected to have exactly 11 children.");
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _maxpool.call(_relu.call(_bn1.call(_conv1.call(input))));
        foreach (var layer in _layers)
        {
            x = layer.call(x);
        }
        return _fc.call(_flatten.call(_avgpool.call(x))).MoveToOuterDisposeScope();
    }
}
