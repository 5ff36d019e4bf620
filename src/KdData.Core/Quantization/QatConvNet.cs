using KdData.Models;
using KdData.Objectives;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Quantization;

/// <summary>
/// Quantization-aware training view of a <c>convnet</c> (<see cref="PlainConvNet"/>): the same modules and parameters
/// (so its state dict is the convnet's, checkpoints load as a plain convnet and the exporter writes it), with a forward
/// pass that computes what the int8 QDQ model computes. Per block: fake-quantized input (uint8, per tensor) → conv with
/// the BatchNorm folded in using its running statistics (w·γ/√(σ²+ε), β - μ·γ/√(σ²+ε): the exporter's folding; the
/// statistics stay frozen, γ and β still learn through the fold) and fake-quantized per channel (int8), bias
/// fake-quantized to int32 → ReLU → fake-quantized output (uint8) → max-pool; then global average pooling, re-quantized
/// on the last block's grid as ONNX Runtime does, and the linear layer with fake-quantized weight and bias.
/// Activation ranges are exponential moving averages of each training batch's min and max (r ← (1 - m)·r + m·r_batch,
/// m = <see cref="Momentum"/>), started from a calibration; evaluation mode uses them without updating.
/// <see cref="Ranges"/> are in the order of the QDQ plan's calibrated tensors: the input, then each block's ReLU output.
/// </summary>
public sealed class QatConvNet : nn.Module<Tensor, Tensor>
{
    /// <summary>Default EMA momentum of the activation ranges.</summary>
    public const double DefaultMomentum = 0.01;

    private readonly List<(Conv2d Conv, BatchNorm2d Norm, nn.Module<Tensor, Tensor> Relu, nn.Module<Tensor, Tensor> Pool)> _blocks = [];
    private readonly nn.Module<Tensor, Tensor> _pool;
    private readonly Linear _fc;
    private readonly ActivationRange[] _ranges;
    private readonly int _weightCodeMax;

    /// <param name="convnet">The convnet (its modules are shared, not copied).</param>
    /// <param name="initialRanges">Starting ranges: the input, then each block's ReLU output.</param>
    /// <param name="momentum">EMA momentum m in (0, 1].</param>
    /// <param name="weightBits">Weight bits of the int8 model it will be exported as (7 or 8; <see cref="QdqModelWriter"/>).</param>
    public QatConvNet(nn.Module<Tensor, Tensor> convnet, IReadOnlyList<ActivationRange> initialRanges, double momentum = DefaultMomentum,
        int weightBits = QuantizationParameters.DefaultWeightBits)
        : base(nameof(QatConvNet))
    {
        _weightCodeMax = QuantizationParameters.WeightCodeMax(weightBits);
        ArgumentNullException.ThrowIfNull(convnet);
        ArgumentNullException.ThrowIfNull(initialRanges);
        if (convnet is not PlainConvNet)
        {
            throw new ArgumentException($"Quantization-aware training supports the convnet family; got {convnet.GetType().Name}.", nameof(convnet));
        }
        if (!(momentum > 0 && momentum <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The EMA momentum must be in (0, 1].");
        }
        var children = convnet.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        var features = (Sequential)children["features"];
        foreach (var (_, block) in features.named_children())
        {
            var parts = block.named_children().Select(c => c.module).ToList();
            _blocks.Add(((Conv2d)parts[0], (BatchNorm2d)parts[1], (nn.Module<Tensor, Tensor>)parts[2], (nn.Module<Tensor, Tensor>)parts[3]));
        }
        _pool = (nn.Module<Tensor, Tensor>)children["pool"];
        _fc = (Linear)children["fc"];
        if (initialRanges.Count != _blocks.Count + 1)
        {
            throw new ArgumentException($"Expected {_blocks.Count + 1} ranges (the input and {_blocks.Count} blocks), got {initialRanges.Count}.", nameof(initialRanges));
        }
        _ranges = [.. initialRanges];
        Momentum = momentum;
        register_module("features", features);
        register_module("pool", _pool);
        register_module("fc", _fc);
    }

    /// <summary>EMA momentum of the ranges.</summary>
    public double Momentum { get; }

    /// <summary>Current activation ranges: the input, then each block's ReLU output.</summary>
    public IReadOnlyList<ActivationRange> Ranges => _ranges;

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = Quantize(input, 0);
        for (var i = 0; i < _blocks.Count; i++)
        {
            var (conv, norm, relu, pool) = _blocks[i];
            var inputScale = Parameters(i).Scale;
            var (weight, bias) = Fold(conv, norm);
            var (qWeight, scales) = FakeQuantize.Weight(weight, _weightCodeMax);
            var qBias = FakeQuantize.Bias(bias, inputScale, scales);
            var y = nn.functional.conv2d(x, qWeight, qBias, strides: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups);
            y = Quantize(relu.call(y), i + 1);
            x = pool.call(y);
        }
        var last = _blocks.Count;
        x = FakeQuantize.Activation(_pool.call(x), Parameters(last));
        x = flatten(x, 1);
        var (fcWeight, fcScales) = FakeQuantize.Weight(_fc.weight!, _weightCodeMax);
        var fcBias = _fc.bias is null ? null : FakeQuantize.Bias(_fc.bias, Parameters(last).Scale, fcScales);
        return nn.functional.linear(x, fcWeight, fcBias).MoveToOuterDisposeScope();
    }

    private QuantizationParameters Parameters(int point) => QuantizationParameters.ForActivation(_ranges[point]);

    private Tensor Quantize(Tensor x, int point)
    {
        if (training)
        {
            using var noGrad = no_grad();
            var batchMin = x.min().item<float>();
            var batchMax = x.max().item<float>();
            var r = _ranges[point];
            var m = (float)Momentum;
            _ranges[point] = new ActivationRange(((1 - m) * r.Min) + (m * batchMin), ((1 - m) * r.Max) + (m * batchMax));
        }
        return FakeQuantize.Activation(x, Parameters(point));
    }

    /// <summary>The conv's weight and bias with the BatchNorm folded in (its running statistics, frozen).</summary>
    private static (Tensor Weight, Tensor Bias) Fold(Conv2d conv, BatchNorm2d norm)
    {
        var variance = norm.running_var!.detach();
        var mean = norm.running_mean!.detach();
        var gamma = norm.weight ?? ones_like(mean);
        var beta = norm.bias ?? zeros_like(mean);
        var scale = gamma.div(HeldScalars.Add(variance, norm.eps).sqrt());
        var weight = conv.weight!.mul(scale.view(-1, 1, 1, 1));
        var bias = conv.bias is null ? beta.sub(mean.mul(scale)) : HeldScalars.Add(conv.bias.mul(scale), beta.sub(mean.mul(scale)));
        return (weight, bias);
    }
}
