using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// Builds classification networks by name from a <see cref="ModelSpec"/>. Every network maps an
/// (N, <see cref="ModelSpec.InChannels"/>, H, W) float batch to (N, <see cref="ModelSpec.NumClasses"/>) logits,
/// and its state-dict names are the ones PyTorch/TorchVision use, so safetensors weights move both ways.
/// Names and settings: <c>resnet18</c>, <c>resnet34</c>, <c>resnet50</c>, <c>resnet101</c>, <c>resnet152</c>
/// and <c>wide_resnet50_2</c> (TorchVision builders; setting <see cref="ModelSpec.Stem"/> = "imagenet" (default)
/// or "small" = 3x3 stride-1 first conv without max-pool for 28-64 px inputs); <c>mobilenet_v2</c> (TorchVision
/// builder; <see cref="ModelSpec.WidthMult"/>, default 1.0; with <see cref="ModelSpec.Channels"/> set, the same network
/// with pruned widths from <see cref="PrunableMobileNetV2"/>); <c>convnet</c>, a plain conv-BN-ReLU-maxpool stack
/// (<see cref="ModelSpec.Width"/> 4-256, default 32; <see cref="ModelSpec.Depth"/> = blocks 1-8, default 3;
/// <see cref="ModelSpec.DropRate"/> = dropout before the classifier in [0, 1), default 0; about 0.1M parameters by default); <c>wrn</c>, a pre-activation Wide-ResNet for small inputs
/// (<see cref="ModelSpec.Depth"/> = 6n+4 in 10-40, default 16; <see cref="ModelSpec.WidenFactor"/> 1-8, default 2;
/// <see cref="ModelSpec.DropRate"/> in [0, 1), default 0; WRN-16-2 has about 0.7M parameters); <c>avgpool_linear</c>,
/// global average pooling + one linear layer, no settings: not a useful classifier but a near-free forward pass with
/// a teacher's output shape, for measuring the Labeler's feed path (the feed-rate bench); <c>ensemble</c>, two or more
/// member networks (<see cref="ModelSpec.Members"/>) whose output is the log of their mean probabilities
/// (<see cref="EnsembleModule"/>; <c>kddata-trainer ensemble</c> builds one from checkpoints).
/// convnet, wrn and mobilenet_v2 also take <see cref="ModelSpec.Channels"/>, the widths of a pruned network.
/// For every family <see cref="ModelSpec.InChannels"/> other than 3 replaces the first convolution (keeping its
/// PyTorch name). An unknown name, an out-of-range value or a setting that does not belong to the chosen family
/// throws <see cref="ArgumentException"/> naming the setting.
/// </summary>
public static class ModelZoo
{
    /// <summary>All architecture names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ModelFamilies.ResNets, ModelFamilies.MobileNetV2, ModelFamilies.ConvNet, ModelFamilies.WideResNet, ModelFamilies.PooledLinear, ModelFamilies.Ensemble];

    /// <summary>
    /// Builds the network described by <paramref name="spec"/> with freshly initialized weights (in training
    /// mode) and moves it to <paramref name="device"/> when one is given.
    /// </summary>
    public static nn.Module<Tensor, Tensor> Create(ModelSpec spec, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var name = Canonical(spec);
        RequirePositive(spec.NumClasses, nameof(ModelSpec.NumClasses), name);
        RequirePositive(spec.InChannels, nameof(ModelSpec.InChannels), name);

        var model = name switch
        {
            ModelFamilies.MobileNetV2 => CreateMobileNetV2(spec),
            ModelFamilies.ConvNet => CreateConvNet(spec),
            ModelFamilies.WideResNet => CreateWideResNet(spec),
            ModelFamilies.PooledLinear => CreatePooledLinear(spec),
            ModelFamilies.Ensemble => CreateEnsemble(spec),
            _ => CreateResNet(name, spec),
        };
        if (device is not null && device.type != DeviceType.CPU)
        {
            model.to(device);
        }
        return model;
    }

    /// <summary>Total number of scalar parameters (buffers such as BatchNorm statistics excluded).</summary>
    public static long CountParameters(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return module.parameters().Sum(p => p.numel());
    }

    private static string Canonical(ModelSpec spec)
    {
        var match = Names.FirstOrDefault(n => string.Equals(n, spec.Name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return match ?? throw new ArgumentException(
            $"Model setting '{nameof(ModelSpec.Name)}' = '{spec.Name}' is not a known architecture; expected one of: {string.Join(", ", Names)}.",
            nameof(spec));
    }

    private static nn.Module<Tensor, Tensor> CreateResNet(string name, ModelSpec spec)
    {
        RejectSettings(spec, name, nameof(ModelSpec.WidthMult), nameof(ModelSpec.Width), nameof(ModelSpec.Depth),
            nameof(ModelSpec.WidenFactor), nameof(ModelSpec.DropRate), nameof(ModelSpec.Channels), nameof(ModelSpec.Members));
        var stem = (spec.Stem ?? ResNetStem.ImageNet).Trim().ToLowerInvariant();
        if (stem is not (ResNetStem.ImageNet or ResNetStem.Small))
        {
            throw Invalid(nameof(ModelSpec.Stem), spec.Stem, name, $"expected '{ResNetStem.ImageNet}' or '{ResNetStem.Small}'");
        }

        ResNet built = name switch
        {
            ModelFamilies.ResNet18 => torchvision.models.resnet18(num_classes: spec.NumClasses),
            ModelFamilies.ResNet34 => torchvision.models.resnet34(num_classes: spec.NumClasses),
            ModelFamilies.ResNet50 => torchvision.models.resnet50(num_classes: spec.NumClasses),
            ModelFamilies.ResNet101 => torchvision.models.resnet101(num_classes: spec.NumClasses),
            ModelFamilies.ResNet152 => torchvision.models.resnet152(num_classes: spec.NumClasses),
            ModelFamilies.WideResNet50x2 => torchvision.models.wide_resnet50_2(num_classes: spec.NumClasses),
            _ => throw new ArgumentException($"Unhandled ResNet name '{name}'.", nameof(name)),
        };
        return new ResNetModule(built, spec.InChannels, stem == ResNetStem.Small);
    }

    private static nn.Module<Tensor, Tensor> CreateMobileNetV2(ModelSpec spec)
    {
        RejectSettings(spec, ModelFamilies.MobileNetV2, nameof(ModelSpec.Stem), nameof(ModelSpec.Width), nameof(ModelSpec.Depth),
            nameof(ModelSpec.WidenFactor), nameof(ModelSpec.DropRate), nameof(ModelSpec.Members));
        var widthMult = spec.WidthMult ?? 1.0;
        if (!(widthMult > 0 && widthMult <= 4))
        {
            throw Invalid(nameof(ModelSpec.WidthMult), widthMult, ModelFamilies.MobileNetV2, "expected a value in (0, 4]");
        }
        if (spec.Channels is not null)
        {
            var channels = CheckChannels(spec, ModelFamilies.MobileNetV2, PrunableMobileNetV2.DefaultChannels(widthMult));
            var blocks = PrunableMobileNetV2.Blocks(widthMult);
            for (var i = 0; i < blocks.Count; i++)
            {
                var input = i == 0 ? channels[0] : channels[PrunableMobileNetV2.OutputSlot(i - 1)];
                // A residual block adds its input to its output; a block without expansion runs its depthwise conv on its input.
                if ((blocks[i].Residual && input != channels[PrunableMobileNetV2.OutputSlot(i)])
                    || (!blocks[i].Expand && input != channels[PrunableMobileNetV2.HiddenSlot(i)]))
                {
                    throw Invalid(nameof(ModelSpec.Channels), string.Join(",", channels), ModelFamilies.MobileNetV2,
                        $"block {i + 1} joins its input width {input} with a width that differs from it");
                }
            }
            return new PrunableMobileNetV2(spec.InChannels, spec.NumClasses, widthMult, channels);
        }
        var built = torchvision.models.mobilenet_v2(num_classes: spec.NumClasses, width_mult: widthMult);
        return spec.InChannels == 3 ? built : new InputAdaptedMobileNetV2(built, spec.InChannels);
    }

    private static PlainConvNet CreateConvNet(ModelSpec spec)
    {
        RejectSettings(spec, ModelFamilies.ConvNet, nameof(ModelSpec.Stem), nameof(ModelSpec.WidthMult), nameof(ModelSpec.WidenFactor),
            nameof(ModelSpec.Members));
        var width = spec.Width ?? 32;
        var depth = spec.Depth ?? 3;
        var dropRate = spec.DropRate ?? 0.0;
        if (width is < 4 or > 256)
        {
            throw Invalid(nameof(ModelSpec.Width), width, ModelFamilies.ConvNet, "expected 4-256 channels");
        }
        if (depth is < 1 or > 8)
        {
            throw Invalid(nameof(ModelSpec.Depth), depth, ModelFamilies.ConvNet, "expected 1-8 blocks");
        }
        var defaults = PlainConvNet.DefaultChannels(width, depth);
        if (!(dropRate >= 0 && dropRate < 1))
        {
            throw Invalid(nameof(ModelSpec.DropRate), dropRate, ModelFamilies.ConvNet, "expected a value in [0, 1)");
        }
        return new PlainConvNet(spec.InChannels, spec.NumClasses, CheckChannels(spec, ModelFamilies.ConvNet, defaults), dropRate);
    }

    private static PooledLinear CreatePooledLinear(ModelSpec spec)
    {
        RejectSettings(spec, ModelFamilies.PooledLinear, nameof(ModelSpec.Stem), nameof(ModelSpec.WidthMult), nameof(ModelSpec.Width),
            nameof(ModelSpec.Depth), nameof(ModelSpec.WidenFactor), nameof(ModelSpec.DropRate), nameof(ModelSpec.Channels), nameof(ModelSpec.Members));
        return new PooledLinear(spec.InChannels, spec.NumClasses);
    }

    private static EnsembleModule CreateEnsemble(ModelSpec spec)
    {
        RejectSettings(spec, ModelFamilies.Ensemble, nameof(ModelSpec.Stem), nameof(ModelSpec.WidthMult), nameof(ModelSpec.Width),
            nameof(ModelSpec.Depth), nameof(ModelSpec.WidenFactor), nameof(ModelSpec.DropRate), nameof(ModelSpec.Channels));
        if (spec.Members is not { Count: >= 2 } members)
        {
            throw Invalid(nameof(ModelSpec.Members), spec.Members?.Count ?? 0, ModelFamilies.Ensemble, "expected two or more member networks");
        }
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i] ?? throw Invalid(nameof(ModelSpec.Members), "null", ModelFamilies.Ensemble, $"member {i} is empty");
            if (ModelFamilies.Is(member.Name, ModelFamilies.Ensemble))
            {
                throw Invalid(nameof(ModelSpec.Members), member.Name, ModelFamilies.Ensemble, $"member {i} is an ensemble itself; list its members instead");
            }
            if (member.NumClasses != spec.NumClasses || member.InChannels != spec.InChannels)
            {
                throw Invalid(nameof(ModelSpec.Members), $"{member.NumClasses} classes, {member.InChannels} channels", ModelFamilies.Ensemble,
                    $"member {i} must take the ensemble's {spec.InChannels} input channels and predict its {spec.NumClasses} classes");
            }
        }
        var built = new List<nn.Module<Tensor, Tensor>>(members.Count);
        try
        {
            foreach (var member in members)
            {
                built.Add(Create(member));
            }
        }
        catch
        {
            built.ForEach(m => m.Dispose());
            throw;
        }
        return new EnsembleModule(built);
    }

    private static WideResNetModule CreateWideResNet(ModelSpec spec)
    {
        RejectSettings(spec, ModelFamilies.WideResNet, nameof(ModelSpec.Stem), nameof(ModelSpec.WidthMult), nameof(ModelSpec.Width),
            nameof(ModelSpec.Members));
        var depth = spec.Depth ?? 16;
        var widen = spec.WidenFactor ?? 2;
        var dropRate = spec.DropRate ?? 0.0;
        if (depth is < 10 or > 40 || (depth - 4) % 6 != 0)
        {
            throw Invalid(nameof(ModelSpec.Depth), depth, ModelFamilies.WideResNet, "expected 6n+4 between 10 and 40 (10, 16, 22, 28, 34, 40)");
        }
        if (widen is < 1 or > 8)
        {
            throw Invalid(nameof(ModelSpec.WidenFactor), widen, ModelFamilies.WideResNet, "expected 1-8");
        }
        if (!(dropRate >= 0 && dropRate < 1))
        {
            throw Invalid(nameof(ModelSpec.DropRate), dropRate, ModelFamilies.WideResNet, "expected a value in [0, 1)");
        }
        var blocks = (depth - 4) / 6;
        var channels = CheckChannels(spec, ModelFamilies.WideResNet, WideResNetModule.DefaultChannels(blocks, widen));
        // Without a projection in the first block, the stem's output is the first group's residual stream.
        if (!WideResNetModule.HasShortcut(0, 0, widen) && channels[0] != channels[1])
        {
            throw Invalid(nameof(ModelSpec.Channels), string.Join(",", channels), ModelFamilies.WideResNet,
                "with widen factor 1 the stem and the first group's stream are added together and need the same width");
        }
        return new WideResNetModule(spec.InChannels, spec.NumClasses, blocks, widen, dropRate, channels);
    }

    /// <summary>The pruned widths of <paramref name="spec"/>, checked against the family's layout, or the defaults.</summary>
    private static IReadOnlyList<int> CheckChannels(ModelSpec spec, string name, int[] defaults)
    {
        if (spec.Channels is not { } channels)
        {
            return defaults;
        }
        if (channels.Count != defaults.Length)
        {
            throw Invalid(nameof(ModelSpec.Channels), string.Join(",", channels), name,
                $"expected {defaults.Length} widths for this depth (the unpruned ones are {string.Join(",", defaults)})");
        }
        for (var i = 0; i < channels.Count; i++)
        {
            if (channels[i] < 1 || channels[i] > defaults[i])
            {
                throw Invalid(nameof(ModelSpec.Channels), string.Join(",", channels), name,
                    $"width {i} is {channels[i]}; expected 1 to the unpruned {defaults[i]}");
            }
        }
        return channels;
    }

    private static void RequirePositive(int value, string setting, string name)
    {
        if (value < 1)
        {
            throw Invalid(setting, value, name, "expected a positive number");
        }
    }

    private static void RejectSettings(ModelSpec spec, string name, params string[] settings)
    {
        foreach (var setting in settings)
        {
            object? value = setting switch
            {
                nameof(ModelSpec.Stem) => spec.Stem,
                nameof(ModelSpec.WidthMult) => spec.WidthMult,
                nameof(ModelSpec.Width) => spec.Width,
                nameof(ModelSpec.Depth) => spec.Depth,
                nameof(ModelSpec.WidenFactor) => spec.WidenFactor,
                nameof(ModelSpec.DropRate) => spec.DropRate,
                nameof(ModelSpec.Channels) => spec.Channels,
                nameof(ModelSpec.Members) => spec.Members,
                _ => throw new ArgumentException($"Unknown setting '{setting}'.", nameof(settings)),
            };
            if (value is not null)
            {
                throw Invalid(setting, value, name, "this setting does not apply to this architecture; leave it unset");
            }
        }
    }

    private static ArgumentException Invalid(string setting, object? value, string name, string reason) =>
        new(string.Format(CultureInfo.InvariantCulture,
            "Model setting '{0}' = '{1}' is invalid for architecture '{2}': {3}.", setting, value, name, reason));
}
