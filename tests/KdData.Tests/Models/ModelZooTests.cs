using KdData.Models;
using KdData.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Tests.Models;

public sealed class ModelZooTests
{
    public static TheoryData<string, int, string?> ShapeCases()
    {
        var data = new TheoryData<string, int, string?>();
        foreach (var channels in new[] { 1, 3 })
        {
            foreach (var name in new[] { "resnet18", "resnet34", "resnet50", "mobilenet_v2", "convnet", "wrn", "avgpool_linear" })
            {
                data.Add(name, channels, null);
            }
            data.Add("resnet18", channels, ResNetStem.Small);
        }
        return data;
    }

    [Theory]
    [InlineData("resnet18")] // BasicBlocks, with and without downsample
    [InlineData("resnet50")] // Bottlenecks
    public void ResNetModule_SameWeights_ComputesWhatTorchVisionComputes(string name)
    {
        manual_seed(3);
        using var built = name == "resnet18" ? TorchSharp.torchvision.models.resnet18(num_classes: 5) : TorchSharp.torchvision.models.resnet50(num_classes: 5);
        // Non-trivial BN statistics, so a block that skipped or reordered a layer could not agree by accident.
        built.train();
        using (var warm = NewDisposeScope())
        using (no_grad())
        {
            built.call(randn(4, 3, 64, 64));
        }

        built.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(2, 3, 64, 64);
        var expected = built.call(input);

        // Takes over the same child modules, so both run the very same weights; only the forward pass is ours.
        using var ours = new ResNetModule(built, inChannels: 3, smallStem: false);
        ours.eval();
        var actual = ours.call(input);

        Assert.Equal(
            built.state_dict().Keys.Order(StringComparer.Ordinal),
            ours.state_dict().Keys.Order(StringComparer.Ordinal));
        var difference = (actual - expected).abs().max().item<float>();
        Assert.True(difference < 1e-4f, $"max |ours - TorchVision| = {difference}");
    }

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void Create_TinyBatch_OutputsOneLogitPerClass(string name, int channels, string? stem)
    {
        manual_seed(1);
        using var model = ModelZoo.Create(new ModelSpec { Name = name, NumClasses = 7, InChannels = channels, Stem = stem });
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var output = model.call(randn(2, channels, 32, 32));

        Assert.Equal([2L, 7L], output.shape);
        Assert.True(output.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Create_CompactFamiliesAtSmallestInput_OutputsLogits(int channels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var convnet = ModelZoo.Create(new ModelSpec { Name = "convnet", InChannels = channels, Depth = 6, Width = 8 });
        using var wrn = ModelZoo.Create(new ModelSpec { Name = "wrn", InChannels = channels, Depth = 10, WidenFactor = 1 });
        convnet.eval();
        wrn.eval();
        var input = randn(1, channels, 28, 28);

        Assert.Equal([1L, 10L], convnet.call(input).shape);
        Assert.Equal([1L, 10L], wrn.call(input).shape);
    }

    // Parameter counts published for torchvision.models with 1000 classes (torchvision model docs).
    [Theory]
    [InlineData("resnet18", 11_689_512L)]
    [InlineData("resnet34", 21_797_672L)]
    [InlineData("resnet50", 25_557_032L)]
    [InlineData("resnet101", 44_549_160L)]
    [InlineData("resnet152", 60_192_808L)]
    [InlineData("wide_resnet50_2", 68_883_240L)]
    [InlineData("mobilenet_v2", 3_504_872L)]
    public void Create_TorchVisionArchitecture_HasPyTorchParameterCount(string name, long expected)
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = name, NumClasses = 1000 });

        Assert.Equal(expected, ModelZoo.CountParameters(model));
    }

    [Theory]
    [InlineData("convnet", null, null, null)]
    [InlineData("convnet", 16, 4, null)]
    [InlineData("wrn", null, null, null)]
    [InlineData("wrn", null, 10, 1)]
    [InlineData("wrn", null, 16, 4)]
    public void Create_CompactFamily_StaysSmall(string name, int? width, int? depth, int? widen)
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = name, Width = width, Depth = depth, WidenFactor = widen });

        Assert.InRange(ModelZoo.CountParameters(model), 10_000L, 3_000_000L);
    }

    [Fact]
    public void Create_WrnDepth_ScalesBlocksAsSixNPlusFour()
    {
        using var shallow = ModelZoo.Create(new ModelSpec { Name = "wrn", Depth = 10 });
        using var deep = ModelZoo.Create(new ModelSpec { Name = "wrn", Depth = 22 });

        // n = (depth - 4) / 6 blocks per group: 1 vs 3, so the deep net has block3.2 and the shallow one does not.
        var shallowNames = shallow.state_dict().Keys.ToHashSet();
        var deepNames = deep.state_dict().Keys.ToHashSet();
        Assert.Contains("block3.0.conv2.weight", shallowNames);
        Assert.DoesNotContain("block3.1.conv2.weight", shallowNames);
        Assert.Contains("block3.2.conv2.weight", deepNames);
        Assert.DoesNotContain("block3.3.conv2.weight", deepNames);
    }

    [Theory]
    [InlineData(ResNetStem.Small, 3L)]
    [InlineData(ResNetStem.ImageNet, 7L)]
    public void Create_ResNetStemWithOneChannel_ReplacesFirstConvolution(string stem, long kernel)
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "resnet18", InChannels = 1, Stem = stem });

        Assert.Equal([64L, 1L, kernel, kernel], model.state_dict()["conv1.weight"].shape);
        var hasMaxPool = model.named_modules().Any(m => m.module is MaxPool2d);
        Assert.Equal(stem == ResNetStem.ImageNet, hasMaxPool);
    }

    [Fact]
    public void Create_SmallStem_KeepsMoreSpatialResolutionThanImageNetStem()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var small = ModelZoo.Create(new ModelSpec { Name = "resnet18", Stem = ResNetStem.Small });
        using var imagenet = ModelZoo.Create(new ModelSpec { Name = "resnet18" });
        var input = randn(1, 3, 32, 32);

        Assert.Equal([1L, 64L, 32L, 32L], StemOf(small, input).shape);
        Assert.Equal([1L, 64L, 8L, 8L], StemOf(imagenet, input).shape);
    }

    [Fact]
    public void Create_UnknownName_ThrowsNamingSettingAndChoices()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelZoo.Create(new ModelSpec { Name = "resnet19" }));

        Assert.Contains("'Name'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("resnet19", ex.Message, StringComparison.Ordinal);
        Assert.Contains("wide_resnet50_2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NameInOtherCase_IsAccepted()
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "ConvNet", Width = 4, Depth = 1 });

        Assert.Contains("fc.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Create_ConvNetWithDropRate_DropsOnlyInTrainingModeAndKeepsTheStateDictNames()
    {
        manual_seed(3);
        using var plain = ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 4, Depth = 2, InChannels = 1 });
        using var noisy = ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 4, Depth = 2, InChannels = 1, DropRate = 0.5 });
        noisy.load_state_dict(plain.state_dict());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = randn(4, 1, 28, 28);

        // Dropout has no weights: the same names, so checkpoints load across both; in eval mode the outputs agree.
        Assert.Equal(plain.state_dict().Keys.Order(), noisy.state_dict().Keys.Order());
        plain.eval();
        noisy.eval();
        Assert.True(plain.call(input).allclose(noisy.call(input)));
        // In training mode two passes differ (a fresh mask each), and differ from the deterministic plain net.
        plain.train();
        noisy.train();
        // BatchNorm's own step count passes a Scalar the GC may free mid-call (see BatchNormStepCounter).
        using var plainCounter = new BatchNormStepCounter(plain);
        using var noisyCounter = new BatchNormStepCounter(noisy);
        var first = noisyCounter.Forward(() => noisy.call(input));
        var second = noisyCounter.Forward(() => noisy.call(input));
        Assert.False(first.allclose(second));
        Assert.True(plainCounter.Forward(() => plain.call(input)).allclose(plainCounter.Forward(() => plain.call(input))));
    }

    public static TheoryData<ModelSpec, string> BadSpecs() => new()
    {
        { new ModelSpec { Name = "resnet18", WidthMult = 0.5 }, "WidthMult" },
        { new ModelSpec { Name = "resnet18", Stem = "tiny" }, "Stem" },
        { new ModelSpec { Name = "mobilenet_v2", WidthMult = 0 }, "WidthMult" },
        { new ModelSpec { Name = "mobilenet_v2", Depth = 3 }, "Depth" },
        { new ModelSpec { Name = "convnet", Width = 2 }, "Width" },
        { new ModelSpec { Name = "convnet", Depth = 9 }, "Depth" },
        { new ModelSpec { Name = "convnet", WidenFactor = 2 }, "WidenFactor" },
        { new ModelSpec { Name = "convnet", DropRate = 1.0 }, "DropRate" },
        { new ModelSpec { Name = "convnet", DropRate = -0.1 }, "DropRate" },
        { new ModelSpec { Name = "wrn", Depth = 12 }, "Depth" },
        { new ModelSpec { Name = "wrn", WidenFactor = 0 }, "WidenFactor" },
        { new ModelSpec { Name = "wrn", DropRate = 1.0 }, "DropRate" },
        { new ModelSpec { Name = "wrn", Stem = ResNetStem.Small }, "Stem" },
        { new ModelSpec { Name = "wrn", NumClasses = 0 }, "NumClasses" },
        { new ModelSpec { Name = "convnet", InChannels = 0 }, "InChannels" },
    };

    [Theory]
    [MemberData(nameof(BadSpecs))]
    public void Create_BadSetting_ThrowsNamingTheSetting(ModelSpec spec, string setting)
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelZoo.Create(spec));

        Assert.Contains($"'{setting}'", ex.Message, StringComparison.Ordinal);
    }

    private static Tensor StemOf(nn.Module<Tensor, Tensor> resnet, Tensor input)
    {
        var children = resnet.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        return children["maxpool"].call(children["relu"].call(children["bn1"].call(children["conv1"].call(input))));
    }
}
