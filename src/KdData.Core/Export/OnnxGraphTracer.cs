using KdData.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using G = KdData.Export.OnnxGraphBuilder;

namespace KdData.Export;

/// <summary>
/// Writes a network into an <see cref="OnnxGraphBuilder"/> by walking its module tree. TorchSharp modules have no
/// traceable graph (their forward is compiled .NET code), so every composite module the zoo builds has an emitter
/// here that repeats its forward pass in ONNX nodes, reading its children by their state-dict names; leaf layers
/// (Conv2d, BatchNorm2d, ReLU, ReLU6, pooling, Flatten, Linear, Dropout, Identity) map to one node each. A
/// BatchNorm2d right after a Conv2d is folded into the convolution (in float64, then rounded once to float32), so
/// the exported convolution computes what conv-then-BN computes in eval mode. Anything else throws
/// <see cref="UnsupportedLayerException"/> naming the module path and type.
/// </summary>
internal sealed class OnnxGraphTracer
{
    private readonly G _graph;
    private readonly OnnxExportOptions _options;
    private string? _relu6Min;
    private string? _relu6Max;

    public OnnxGraphTracer(G graph, OnnxExportOptions options)
    {
        _graph = graph;
        _options = options;
    }

    /// <summary>Emits <paramref name="module"/> (at <paramref name="path"/>) reading tensor <paramref name="x"/>; returns its output tensor.</summary>
    public string Emit(nn.Module module, string path, string x)
    {
        switch (module)
        {
            case PlainConvNet:
                return EmitPlainConvNet(module, path, x);
            case WideResNetModule:
                return EmitWideResNet(module, path, x);
            case WideBasicBlock:
                return EmitWideBasicBlock(module, path, x);
            case ResNet or ResNetModule:
                return EmitResNet(module, path, x);
            case MobileNetV2 or InputAdaptedMobileNetV2 or PrunableMobileNetV2:
                return EmitMobileNetV2(module, path, x);
            case PrunableInvertedResidual block:
                // A pruned block's widths no longer tell whether it adds its input (pruning can make a plain block's
                // input and output widths equal): the block records it.
                return EmitInvertedResidual(module, path, x, block.Residual);
            case PooledLinear:
                return EmitPooledLinear(module, path, x);
            case Sequential:
                return EmitSequence(Children(module), path, x);
            case Conv2d conv:
                return EmitConv(conv, path, x, null);
            case BatchNorm2d bn:
                return EmitBatchNorm(bn, path, x);
            case ReLU:
                return _graph.AddNode("Relu", [x], Name(path, "relu"));
            case ReLU6:
                return EmitRelu6(path, x);
            case MaxPool2d pool:
                return EmitMaxPool(pool, path, x);
            case AvgPool2d pool:
                return EmitAvgPool(pool, path, x);
            case AdaptiveAvgPool2d:
                return EmitGlobalAveragePool(module, path, x);
            case Flatten:
                return EmitFlatten(path, x);
            case Linear linear:
                return EmitGemm(linear, path, x);
            case Dropout or Identity:
                return x;
        }

        var typeName = module.GetType().FullName ?? module.GetType().Name;
        // TorchVision's residual blocks are private nested types; recognise them by their full type name.
        return typeName switch
        {
            "TorchSharp.Modules.ResNet+BasicBlock" or "TorchSharp.Modules.ResNet+Bottleneck" => EmitResNetBlock(module, path, x),
            "TorchSharp.Modules.MobileNetV2+InvertedResidual" => EmitInvertedResidual(module, path, x, null),
            _ => throw Unsupported(module, path, "no ONNX translation for this module type"),
        };
    }

    private string EmitSequence(IReadOnlyList<(string Name, nn.Module Module)> children, string prefix, string x)
    {
        for (var i = 0; i < children.Count; i++)
        {
            var (name, module) = children[i];
            var path = Join(prefix, name);
            if (module is Conv2d conv && _options.FoldBatchNorm && i + 1 < children.Count && children[i + 1].Module is BatchNorm2d bn)
            {
                x = EmitConv(conv, path, x, bn);
                i++;
                continue;
            }
            x = Emit(module, path, x);
        }
        return x;
    }

    private string EmitPlainConvNet(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "features", "pool", "fc");
        x = Emit(c["features"], Join(path, "features"), x);
        x = Emit(c["pool"], Join(path, "pool"), x);
        x = EmitFlatten(path, x);
        return Emit(c["fc"], Join(path, "fc"), x);
    }

    private string EmitWideResNet(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "conv1", "block1", "block2", "block3", "bn", "fc");
        // conv1 feeds block1.0.bn1 and (through it) the shortcut, so it cannot absorb a BatchNorm: emitted alone.
        x = Emit(c["conv1"], Join(path, "conv1"), x);
        foreach (var group in new[] { "block1", "block2", "block3" })
        {
            x = Emit(c[group], Join(path, group), x);
        }
        x = EmitBatchNorm((BatchNorm2d)c["bn"], Join(path, "bn"), x);
        x = _graph.AddNode("Relu", [x], Name(path, "relu"));
        x = _graph.AddNode("GlobalAveragePool", [x], Name(path, "pool"));
        x = EmitFlatten(path, x);
        return Emit(c["fc"], Join(path, "fc"), x);
    }

    private string EmitWideBasicBlock(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "bn1", "conv1", "bn2", "dropout", "conv2");
        // Pre-activation: BN-ReLU before each conv. bn1 acts on the block input (also the identity path), so it
        // stays a BatchNormalization node; bn2 directly follows conv1 and folds into it.
        var preActivated = _graph.AddNode("Relu", [EmitBatchNorm((BatchNorm2d)c["bn1"], Join(path, "bn1"), x)], Name(path, "relu1"));
        var y = _options.FoldBatchNorm
            ? EmitConv((Conv2d)c["conv1"], Join(path, "conv1"), preActivated, (BatchNorm2d)c["bn2"])
            : EmitBatchNorm((BatchNorm2d)c["bn2"], Join(path, "bn2"), EmitConv((Conv2d)c["conv1"], Join(path, "conv1"), preActivated, null));
        y = _graph.AddNode("Relu", [y], Name(path, "relu2"));
        y = Emit(c["dropout"], Join(path, "dropout"), y);
        y = EmitConv((Conv2d)c["conv2"], Join(path, "conv2"), y, null);
        var identity = c.TryGetValue("shortcut", out var shortcut)
            ? EmitConv((Conv2d)shortcut, Join(path, "shortcut"), preActivated, null)
            : x;
        return _graph.AddNode("Add", [y, identity], Name(path, "add"));
    }

    private string EmitResNet(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten", "fc");
        x = EmitSequence([("conv1", c["conv1"]), ("bn1", c["bn1"]), ("relu", c["relu"]), ("maxpool", c["maxpool"])], path, x);
        foreach (var layer in new[] { "layer1", "layer2", "layer3", "layer4" })
        {
            x = Emit(c[layer], Join(path, layer), x);
        }
        x = Emit(c["avgpool"], Join(path, "avgpool"), x);
        x = Emit(c["flatten"], Join(path, "flatten"), x);
        return Emit(c["fc"], Join(path, "fc"), x);
    }

    private string EmitResNetBlock(nn.Module module, string path, string x)
    {
        var c = Children(module).ToDictionary(p => p.Name, p => p.Module, StringComparer.Ordinal);
        var bottleneck = c.ContainsKey("conv3");
        // BasicBlock: conv1-bn1-relu1-conv2-bn2 (+ identity), ReLU. Bottleneck adds relu2 and conv3-bn3.
        List<(string, nn.Module)> main = bottleneck
            ? [("conv1", c["conv1"]), ("bn1", c["bn1"]), ("relu1", c["relu1"]), ("conv2", c["conv2"]), ("bn2", c["bn2"]), ("relu2", c["relu2"]), ("conv3", c["conv3"]), ("bn3", c["bn3"])]
            : [("conv1", c["conv1"]), ("bn1", c["bn1"]), ("relu1", c["relu1"]), ("conv2", c["conv2"]), ("bn2", c["bn2"])];
        var y = EmitSequence(main, path, x);
        var identity = c.TryGetValue("downsample", out var downsample) ? Emit(downsample, Join(path, "downsample"), x) : x;
        var sum = _graph.AddNode("Add", [y, identity], Name(path, "add"));
        return _graph.AddNode("Relu", [sum], Name(path, "relu"));
    }

    private string EmitMobileNetV2(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "features", "classifier");
        x = Emit(c["features"], Join(path, "features"), x);
        x = _graph.AddNode("GlobalAveragePool", [x], Name(path, "pool"));
        x = EmitFlatten(path, x);
        return Emit(c["classifier"], Join(path, "classifier"), x);
    }

    private string EmitInvertedResidual(nn.Module module, string path, string x, bool? knownResidual)
    {
        var c = ChildMap(module, path, "conv");
        // TorchVision adds the input back when stride is 1 and channels are unchanged (its private use_res_connect);
        // the same condition is read off the block's convolutions.
        var convs = ConvsInOrder(c["conv"]).ToList();
        var residual = knownResidual
            ?? (convs.Count > 0 && convs.All(k => k.stride.All(s => s == 1)) && convs[0].in_channels == convs[^1].out_channels);
        var y = Emit(c["conv"], Join(path, "conv"), x);
        return residual ? _graph.AddNode("Add", [x, y], Name(path, "add")) : y;
    }

    private string EmitPooledLinear(nn.Module module, string path, string x)
    {
        var c = ChildMap(module, path, "fc");
        x = _graph.AddNode("ReduceMean", [x], Name(path, "mean"), G.IntsAttribute("axes", [2, 3]), G.IntAttribute("keepdims", 0));
        return Emit(c["fc"], Join(path, "fc"), x);
    }

    private string EmitConv(Conv2d conv, string path, string x, BatchNorm2d? bn)
    {
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros)
        {
            throw Unsupported(conv, path, $"padding mode {conv.padding_mode} (only zero padding is exported)");
        }
        var kernel = conv.kernel_size;
        long[] pads;
        if (conv.padding is { } padding)
        {
            pads = [padding[0], padding[1], padding[0], padding[1]];
        }
        else if (conv.padding_type == TorchSharp.Padding.Same)
        {
            // PyTorch's 'same': total = dilation * (k - 1), the extra pixel (odd total) on the bottom/right.
            var total = new[] { conv.dilation[0] * (kernel[0] - 1), conv.dilation[1] * (kernel[1] - 1) };
            pads = [total[0] / 2, total[1] / 2, total[0] - (total[0] / 2), total[1] - (total[1] / 2)];
        }
        else
        {
            pads = [0, 0, 0, 0];
        }

        float[] weight;
        float[]? bias;
        using (NewDisposeScope())
        using (no_grad())
        {
            var w = conv.weight.detach().to(CPU).to_type(ScalarType.Float64);
            var b = conv.bias?.detach().to(CPU).to_type(ScalarType.Float64);
            if (bn is not null)
            {
                var (scale, shift) = BatchNormAffine(bn);
                w = w * scale.view(-1, 1, 1, 1);
                b = (b is null ? shift : (b * scale) + shift);
            }
            weight = Floats(w);
            bias = b is null ? null : Floats(b);
        }

        var weightName = _graph.AddInitializer(Join(path, "weight"), weight, conv.weight.shape);
        var biasName = bias is null ? string.Empty : _graph.AddInitializer(Join(path, "bias"), bias, [bias.Length]);
        var layer = Rewrite(new OnnxWeightedLayer(path, "Conv", x, weightName, biasName, conv.groups));
        List<string> inputs = layer.Bias.Length == 0 ? [layer.Input, layer.Weight] : [layer.Input, layer.Weight, layer.Bias];
        return _graph.AddNode("Conv", inputs, Name(path, "conv"),
            G.IntsAttribute("kernel_shape", kernel),
            G.IntsAttribute("strides", conv.stride),
            G.IntsAttribute("pads", pads),
            G.IntsAttribute("dilations", conv.dilation),
            G.IntAttribute("group", conv.groups));
    }

    private string EmitGemm(Linear linear, string path, string x)
    {
        float[] weight;
        float[]? bias;
        using (NewDisposeScope())
        using (no_grad())
        {
            weight = Floats(linear.weight.detach());
            bias = linear.bias is null ? null : Floats(linear.bias.detach());
        }
        var weightName = _graph.AddInitializer(Join(path, "weight"), weight, linear.weight.shape);
        var biasName = bias is null ? string.Empty : _graph.AddInitializer(Join(path, "bias"), bias, [bias.Length]);
        var layer = Rewrite(new OnnxWeightedLayer(path, "Gemm", x, weightName, biasName, 1));
        List<string> inputs = layer.Bias.Length == 0 ? [layer.Input, layer.Weight] : [layer.Input, layer.Weight, layer.Bias];
        return _graph.AddNode("Gemm", inputs, Name(path, "gemm"), G.IntAttribute("transB", 1));
    }

    private string EmitBatchNorm(BatchNorm2d bn, string path, string x)
    {
        float[] scale;
        float[] shift;
        float[] mean;
        float[] variance;
        using (NewDisposeScope())
        using (no_grad())
        {
            var (running_mean, running_var) = RunningStatistics(bn, path);
            var channels = running_mean.shape[0];
            scale = bn.weight is null ? Enumerable.Repeat(1f, (int)channels).ToArray() : Floats(bn.weight.detach());
            shift = bn.bias is null ? new float[channels] : Floats(bn.bias.detach());
            mean = Floats(running_mean);
            variance = Floats(running_var);
        }
        long[] dims = [scale.Length];
        var inputs = new[]
        {
            x,
            _graph.AddInitializer(Join(path, "weight"), scale, dims),
            _graph.AddInitializer(Join(path, "bias"), shift, dims),
            _graph.AddInitializer(Join(path, "running_mean"), mean, dims),
            _graph.AddInitializer(Join(path, "running_var"), variance, dims),
        };
        return _graph.AddNode("BatchNormalization", inputs, Name(path, "bn"), G.FloatAttribute("epsilon", (float)bn.eps));
    }

    private string EmitRelu6(string path, string x)
    {
        // Clip takes min/max as inputs since opset 11; one pair of scalar initializers serves every ReLU6.
        _relu6Min ??= _graph.AddInitializer("relu6_min", [0f], []);
        _relu6Max ??= _graph.AddInitializer("relu6_max", [6f], []);
        return _graph.AddNode("Clip", [x, _relu6Min, _relu6Max], Name(path, "relu6"));
    }

    private string EmitMaxPool(MaxPool2d pool, string path, string x)
    {
        var kernel = pool.kernel_size;
        var stride = pool.stride ?? kernel;
        var padding = pool.padding ?? [0, 0];
        var dilation = pool.dilation ?? [1, 1];
        return _graph.AddNode("MaxPool", [x], Name(path, "maxpool"),
            G.IntsAttribute("kernel_shape", kernel),
            G.IntsAttribute("strides", stride),
            G.IntsAttribute("pads", [padding[0], padding[1], padding[0], padding[1]]),
            G.IntsAttribute("dilations", dilation),
            G.IntAttribute("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    private string EmitAvgPool(AvgPool2d pool, string path, string x)
    {
        if (pool.divisor_override is not null)
        {
            throw Unsupported(pool, path, "divisor_override has no ONNX AveragePool equivalent");
        }
        var kernel = pool.kernel_size;
        var stride = pool.stride ?? kernel;
        var padding = pool.padding ?? [0, 0];
        return _graph.AddNode("AveragePool", [x], Name(path, "avgpool"),
            G.IntsAttribute("kernel_shape", kernel),
            G.IntsAttribute("strides", stride),
            G.IntsAttribute("pads", [padding[0], padding[1], padding[0], padding[1]]),
            G.IntAttribute("count_include_pad", pool.count_include_pad ? 1 : 0),
            G.IntAttribute("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    private string EmitGlobalAveragePool(nn.Module module, string path, string x)
    {
        // Only the (1, 1) output every zoo network uses is a global pool; probe it rather than trust a field.
        using (NewDisposeScope())
        using (no_grad())
        {
            var probe = ((nn.Module<Tensor, Tensor>)module).call(zeros(1, 1, 5, 7));
            if (probe.shape[2] != 1 || probe.shape[3] != 1)
            {
                throw Unsupported(module, path, "only an output size of (1, 1) (global average pooling) is exported");
            }
        }
        return _graph.AddNode("GlobalAveragePool", [x], Name(path, "pool"));
    }

    private string EmitFlatten(string path, string x) =>
        _graph.AddNode("Flatten", [x], Name(path, "flatten"), G.IntAttribute("axis", 1));

    private OnnxWeightedLayer Rewrite(OnnxWeightedLayer layer) =>
        _options.LayerRewriter is { } rewriter ? rewriter(_graph, layer) : layer;

    private static (Tensor Scale, Tensor Shift) BatchNormAffine(BatchNorm2d bn)
    {
        var (mean, variance) = RunningStatistics(bn, string.Empty);
        mean = mean.to_type(ScalarType.Float64);
        variance = variance.to_type(ScalarType.Float64);
        var gamma = bn.weight?.detach().to(CPU).to_type(ScalarType.Float64) ?? ones_like(mean);
        var beta = bn.bias?.detach().to(CPU).to_type(ScalarType.Float64) ?? zeros_like(mean);
        var scale = gamma / sqrt(variance + bn.eps);
        return (scale, beta - (mean * scale));
    }

    private static (Tensor Mean, Tensor Variance) RunningStatistics(BatchNorm2d bn, string path)
    {
        if (bn.running_mean is null || bn.running_var is null)
        {
            throw Unsupported(bn, path, "a BatchNorm without running statistics (track_running_stats = false) depends on the batch");
        }
        return (bn.running_mean.detach().to(CPU), bn.running_var.detach().to(CPU));
    }

    /// <summary>The convolutions under <paramref name="module"/> in forward (registration) order, depth first.</summary>
    private static IEnumerable<Conv2d> ConvsInOrder(nn.Module module)
    {
        // Not modules(): its order is not the order the children run in.
        foreach (var (_, child) in Children(module))
        {
            if (child is Conv2d conv)
            {
                yield return conv;
            }
            foreach (var nested in ConvsInOrder(child))
            {
                yield return nested;
            }
        }
    }

    private static float[] Floats(Tensor t) => t.to(CPU).to_type(ScalarType.Float32).contiguous().data<float>().ToArray();

    private static List<(string Name, nn.Module Module)> Children(nn.Module module) =>
        [.. module.named_children().Select(c => (c.name, c.module))];

    private static Dictionary<string, nn.Module> ChildMap(nn.Module module, string path, params string[] required)
    {
        var map = Children(module).ToDictionary(c => c.Name, c => c.Module, StringComparer.Ordinal);
        foreach (var name in required)
        {
            if (!map.ContainsKey(name))
            {
                throw Unsupported(module, path, $"expected a child module named '{name}'");
            }
        }
        return map;
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static string Name(string path, string op) => path.Length == 0 ? op : path + "." + op;

    private static UnsupportedLayerException Unsupported(nn.Module module, string path, string reason) =>
        new(path, module.GetType().FullName ?? module.GetType().Name, reason);
}
