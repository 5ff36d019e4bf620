using System.Diagnostics;
using KdData.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// A TorchVision ResNet run by a forward pass of our own, optionally with another stem (other input channel count
/// and/or the small-input stem). It takes over the built children under the same names, so state-dict names stay
/// PyTorch's and the weights are TorchVision's initialisation.
/// </summary>
/// <remarks>
/// Why not TorchVision's own forward: its residual blocks add the shortcut with <c>add_(Tensor)</c>, which makes an
/// implicit <c>Scalar</c> alpha that the GC may free while libtorch reads it (docs/operations.md, "TorchSharp Scalars and the GC"),
/// in every forward of every block: with an online ResNet teacher, in every distillation step. Here each block runs
/// its own children and adds the shortcut with <see cref="HeldScalars.Add(Tensor, Tensor)"/>. Its ResNet also calls
/// its stem through private fields, so a swapped child would change the state dict but not the computation.
/// </remarks>
internal sealed class ResNetModule : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _conv1;
    private readonly nn.Module<Tensor, Tensor> _bn1;
    private readonly nn.Module<Tensor, Tensor> _maxpool;
    private readonly Block[] _blocks;
    private readonly nn.Module<Tensor, Tensor> _avgpool;
    private readonly nn.Module<Tensor, Tensor> _fc;

    /// <param name="source">A TorchVision ResNet, as built; its children are taken over.</param>
    /// <param name="inChannels">Input channels; a new stem convolution is made unless it is 3 with the ImageNet stem.</param>
    /// <param name="smallStem">3x3 stride-1 stem without max-pool (small inputs such as 28x28) instead of TorchVision's 7x7 stride 2 + max-pool.</param>
    public ResNetModule(ResNet source, long inChannels, bool smallStem) : base(nameof(ResNet))
    {
        ArgumentNullException.ThrowIfNull(source);
        var children = source.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        Debug.Assert(children.Count == 11, "TorchVision ResNet is expected to have exactly 11 children.");
        var oldConv = (Conv2d)children["conv1"];
        if (inChannels == 3 && !smallStem)
        {
            _conv1 = oldConv;
        }
        else
        {
            var stemChannels = oldConv.weight!.shape[0];
            _conv1 = smallStem
                ? nn.Conv2d(inChannels, stemChannels, kernel_size: 3, stride: 1, padding: 1, bias: false)
                : nn.Conv2d(inChannels, stemChannels, kernel_size: 7, stride: 2, padding: 3, bias: false);
            // Same initialization TorchVision applies to every convolution of a fresh ResNet.
            nn.init.kaiming_normal_(((Conv2d)_conv1).weight!, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
            oldConv.Dispose();
        }

        _bn1 = children["bn1"];
        _maxpool = smallStem ? nn.Identity() : children["maxpool"];
        var layers = new[] { children["layer1"], children["layer2"], children["layer3"], children["layer4"] };
        _blocks = [.. layers.SelectMany(layer => layer.children()).Select(Block.Of)];
        _avgpool = children["avgpool"];
        _fc = children["fc"];

        register_module("conv1", _conv1);
        register_module("bn1", _bn1);
        register_module("relu", children["relu"]);
        register_module("maxpool", _maxpool);
        for (var i = 0; i < layers.Length; i++)
        {
            register_module($"layer{i + 1}", layers[i]);
        }

        register_module("avgpool", _avgpool);
        register_module("flatten", children["flatten"]);
        register_module("fc", _fc);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = _maxpool.call(nn.functional.relu(_bn1.call(_conv1.call(input))));
        foreach (var block in _blocks)
        {
            x = block.Forward(x);
        }

        return _fc.call(_avgpool.call(x).flatten(1)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One BasicBlock (conv1-bn1-ReLU-conv2-bn2) or Bottleneck (adds ReLU-conv3-bn3), the shortcut (downsample or
    /// identity) added with a held alpha, then ReLU: TorchVision's computation. Its ReLU children hold no state.
    /// </summary>
    private sealed record Block(nn.Module<Tensor, Tensor>[] Main, nn.Module<Tensor, Tensor>? Downsample)
    {
        public static Block Of(nn.Module module)
        {
            var c = module.named_children().ToDictionary(p => p.name, p => (nn.Module<Tensor, Tensor>)p.module, StringComparer.Ordinal);
            nn.Module<Tensor, Tensor>[] main = c.TryGetValue("conv3", out var conv3)
                ? [c["conv1"], c["bn1"], c["conv2"], c["bn2"], conv3, c["bn3"]]
                : [c["conv1"], c["bn1"], c["conv2"], c["bn2"]];
            return new Block(main, c.GetValueOrDefault("downsample"));
        }

        public Tensor Forward(Tensor x)
        {
            var y = x;
            for (var i = 0; i < Main.Length; i += 2)
            {
                y = Main[i + 1].call(Main[i].call(i == 0 ? y : nn.functional.relu(y)));
            }

            return nn.functional.relu(HeldScalars.Add(y, Downsample?.call(x) ?? x));
        }
    }
}
