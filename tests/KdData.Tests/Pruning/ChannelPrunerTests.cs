using KdData.Models;
using KdData.Pruning;
using KdData.Tests.Fixtures;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Tests.Pruning;

[Collection(TorchGeneratorTestGroup.Name)]
public sealed class ChannelPrunerTests
{
    public static TheoryData<string> Families() => ["convnet", "wrn-k2", "wrn-k1", "mobilenet-0.5", "mobilenet-0.25"];

    private static ModelSpec Spec(string family) => family switch
    {
        "convnet" => new ModelSpec { Name = "convnet", InChannels = 1, Width = 8, Depth = 3 },
        "wrn-k2" => new ModelSpec { Name = "wrn", InChannels = 1, Depth = 10, WidenFactor = 2 },
        "wrn-k1" => new ModelSpec { Name = "wrn", InChannels = 1, Depth = 16, WidenFactor = 1 },
        // At 0.25 the first block maps 8 channels to 8 at stride 1, so TorchVision makes it residual as well.
        "mobilenet-0.5" => new ModelSpec { Name = "mobilenet_v2", InChannels = 1, WidthMult = 0.5 },
        "mobilenet-0.25" => new ModelSpec { Name = "mobilenet_v2", InChannels = 3, WidthMult = 0.25 },
        _ => throw new ArgumentException(family, nameof(family)),
    };

    /// <summary>A model with random BatchNorm scales, shifts and statistics, so no channel is trivially like another.</summary>
    private static nn.Module<Tensor, Tensor> Create(ModelSpec spec, int seed = 3)
    {
        manual_seed(seed);
        var model = ModelZoo.Create(spec);
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is BatchNorm2d bn)
            {
                bn.weight!.copy_(rand(bn.weight.shape).add(0.5));
                bn.bias!.copy_(randn(bn.bias.shape).mul(0.1));
                bn.running_mean!.copy_(randn(bn.running_mean.shape).mul(0.1));
                bn.running_var!.copy_(rand(bn.running_var.shape).add(0.5));
            }
        }
        model.eval();
        return model;
    }

    private static int InChannels(string family) => Spec(family).InChannels;

    private static float[] Logits(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        return model.call(input).data<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Rebuild_RatioZero_OutputsUnchanged(string family)
    {
        using var model = Create(Spec(family));
        var layout = PruningLayouts.For(Spec(family));
        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, PruningCriterion.L1), PruningScope.Global, 0);

        var (pruned, spec) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;
        using var input = randn(3, InChannels(family), 28, 28);

        Assert.Equal(layout.Channels, spec.Channels);
        Assert.Equal(ModelComplexity.Parameters(model), ModelComplexity.Parameters(prunedModel));
        var expected = Logits(model, input);
        var actual = Logits(prunedModel, input);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-6f);
        }
    }

    [Theory]
    [InlineData("convnet", PruningScope.Layer, PruningCriterion.L1)]
    [InlineData("convnet", PruningScope.Global, PruningCriterion.Bn)]
    [InlineData("wrn-k2", PruningScope.Layer, PruningCriterion.Bn)]
    [InlineData("wrn-k2", PruningScope.Global, PruningCriterion.L1)]
    [InlineData("wrn-k1", PruningScope.Layer, PruningCriterion.L1)]
    [InlineData("wrn-k1", PruningScope.Global, PruningCriterion.Bn)]
    [InlineData("mobilenet-0.5", PruningScope.Layer, PruningCriterion.L1)]
    [InlineData("mobilenet-0.5", PruningScope.Global, PruningCriterion.Bn)]
    [InlineData("mobilenet-0.25", PruningScope.Global, PruningCriterion.L1)]
    public void Rebuild_HalfRatio_ForwardRunsWithTheChosenWidths(string family, PruningScope scope, PruningCriterion criterion)
    {
        using var model = Create(Spec(family));
        var layout = PruningLayouts.For(Spec(family));
        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, criterion), scope, 0.5);

        var (pruned, spec) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;
        using var scopeGuard = NewDisposeScope();
        using var noGrad = no_grad();
        var output = prunedModel.call(randn(2, InChannels(family), 28, 28));

        Assert.Equal([2L, 10L], output.shape);
        Assert.True(output.isfinite().all().item<bool>());
        var removed = layout.Groups.Sum(g => g.Size) - keep.Sum(k => k.Length);
        Assert.Equal(layout.Groups.Sum(g => g.Size) / 2, removed);
        if (scope == PruningScope.Layer)
        {
            Assert.All(layout.Groups.Zip(keep), p => Assert.Equal(p.First.Size - (p.First.Size / 2), p.Second.Length));
        }
        // Every group's width is the one chosen, in every slot it spans, and the rebuilt spec builds the same shapes.
        var rebuiltLayout = PruningLayouts.For(spec);
        Assert.Equal(keep.Select(k => k.Length), rebuiltLayout.Groups.Select(g => g.Size));
        using var fromSpec = ModelZoo.Create(spec);
        Assert.Equal(ModelComplexity.Parameters(prunedModel), ModelComplexity.Parameters(fromSpec));
    }

    [Fact]
    public void Select_L1Criterion_KeepsTheFiltersWithLargestL1Norm()
    {
        var spec = new ModelSpec { Name = "convnet", InChannels = 1, Width = 4, Depth = 1 };
        using var model = Create(spec);
        var conv = (Conv2d)model.named_modules().Single(m => m.name == "features.0.0").module;
        using (no_grad())
        {
            // L1 norms 9 * |v|: 2.7, 0.9, 4.5, 1.8 (signs must not matter).
            float[] values = [0.3f, -0.1f, -0.5f, 0.2f];
            for (var i = 0; i < 4; i++)
            {
                conv.weight![i].fill_(values[i]);
            }
        }
        var layout = PruningLayouts.For(spec);

        var scores = ChannelPruner.Score(model, layout, PruningCriterion.L1);
        var keep = ChannelPruner.Select(scores, PruningScope.Layer, 0.5);

        Assert.Equal([2.7, 0.9, 4.5, 1.8], scores[0].Select(s => Math.Round(s, 5)));
        Assert.Equal([0, 2], keep[0]);
        var (pruned, _) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;
        var prunedConv = (Conv2d)prunedModel.named_modules().Single(m => m.name == "features.0.0").module;
        Assert.Equal([0.3f, -0.5f], new[] { prunedConv.weight![0, 0, 0, 0].item<float>(), prunedConv.weight[1, 0, 1, 1].item<float>() });
    }

    [Fact]
    public void Select_BnCriterion_KeepsTheChannelsWithLargestAbsoluteGamma()
    {
        var spec = new ModelSpec { Name = "convnet", InChannels = 1, Width = 4, Depth = 2 };
        using var model = Create(spec);
        var bn = (BatchNorm2d)model.named_modules().Single(m => m.name == "features.0.1").module;
        using (no_grad())
        {
            bn.weight!.copy_(tensor(new[] { 0.5f, -0.1f, -2f, 0.05f }));
        }
        var layout = PruningLayouts.For(spec);

        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, PruningCriterion.Bn), PruningScope.Layer, 0.5);

        Assert.Equal([0, 2], keep[0]);
        var (pruned, spec2) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;
        var state = prunedModel.state_dict();
        Assert.Equal([0.5f, -2f], state["features.0.1.weight"].data<float>().ToArray());
        Assert.Equal([4L, 2L, 3L, 3L], state["features.1.0.weight"].shape); // the next conv lost the matching inputs
        Assert.Equal([2, 4], spec2.Channels);
    }

    [Fact]
    public void Rebuild_MobileNet_DepthwiseConvsAndResidualStreamsStayConsistent()
    {
        var spec = Spec("mobilenet-0.5");
        using var model = Create(spec);
        var layout = PruningLayouts.For(spec);
        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, PruningCriterion.L1), PruningScope.Layer, 0.5);

        var (pruned, prunedSpec) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;

        var state = prunedModel.state_dict();
        for (var block = 2; block <= 17; block++)
        {
            // The depthwise conv (one 3x3 filter per channel) follows the expansion conv's pruned output.
            var expanded = state[$"features.{block}.conv.0.0.weight"].shape[0];
            Assert.Equal([expanded, 1L, 3L, 3L], state[$"features.{block}.conv.1.0.weight"].shape);
            Assert.Equal(expanded, state[$"features.{block}.conv.2.weight"].shape[1]);
        }
        var channels = prunedSpec.Channels!;
        // Blocks 3, 5 and 6 (features.3, .5, .6) are residual: their outputs share the width of their inputs.
        Assert.Equal(channels[4], channels[6]);
        Assert.Equal(channels[8], channels[10]);
        Assert.Equal(channels[8], channels[12]);
        Assert.True(channels[1] < PrunableWidths(spec)[1]);
    }

    private static IReadOnlyList<int> PrunableWidths(ModelSpec spec) => PruningLayouts.For(spec).Channels;

    [Fact]
    public void Select_GlobalScope_PrunesTheLayerWithWeakChannelsMore()
    {
        double[][] scores = [[1, 1, 1, 1], [1, 0.01, 0.01, 1]];

        var keep = ChannelPruner.Select(scores, PruningScope.Global, 0.25);

        Assert.Equal([0, 1, 2, 3], keep[0]);
        Assert.Equal([0, 3], keep[1]);
    }

    [Theory]
    [InlineData("convnet")]
    [InlineData("wrn-k2")]
    [InlineData("mobilenet-0.5")]
    public async Task Rebuild_SavedCheckpoint_LoadsAloneWithTheSameLogits(string family)
    {
        var original = Spec(family);
        using var model = Create(original);
        var layout = PruningLayouts.For(original);
        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, PruningCriterion.L1), PruningScope.Global, 0.4);
        var (pruned, spec) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;
        using var work = new TempDirectory();
        using var input = randn(2, InChannels(family), 28, 28);

        var path = await CheckpointSerializer.SaveAsync(prunedModel, new CheckpointRecord { Architecture = spec }, work.Path, "pruned");
        using var loaded = await CheckpointSerializer.LoadAsync(path);

        Assert.Equal(spec, loaded.Record.Architecture);
        Assert.Equal(spec.Channels, loaded.Record.Architecture.Channels);
        Assert.Equal(Logits(prunedModel, input), Logits(loaded.Model, input));
    }

    [Fact]
    public void Rebuild_LayerHalf_MacsAsCountedByHand()
    {
        var spec = new ModelSpec { Name = "convnet", InChannels = 1, Width = 8, Depth = 2 };
        using var model = Create(spec);
        var layout = PruningLayouts.For(spec);
        var keep = ChannelPruner.Select(ChannelPruner.Score(model, layout, PruningCriterion.L1), PruningScope.Layer, 0.5);

        var (pruned, _) = ChannelPruner.Rebuild(model, layout, keep);
        using var prunedModel = pruned;

        // conv1 28x28 x 8 out x (1 x 3 x 3); conv2 14x14 x 16 out x (8 x 3 x 3); fc 10 x 16; halved: 4 and 8 channels.
        Assert.Equal((28L * 28 * 8 * 9) + (14L * 14 * 16 * 8 * 9) + (10 * 16), ModelComplexity.Macs(model, 1, 28, 28));
        Assert.Equal((28L * 28 * 4 * 9) + (14L * 14 * 8 * 4 * 9) + (10 * 8), ModelComplexity.Macs(prunedModel, 1, 28, 28));
    }

    [Theory]
    [InlineData(PruningScope.Global)]
    [InlineData(PruningScope.Layer)]
    public void SelectForCost_HalfTheMacs_CostsAtMostTheTarget(PruningScope scope)
    {
        var spec = Spec("wrn-k2");
        using var model = Create(spec);
        var layout = PruningLayouts.For(spec);
        var full = ModelComplexity.Macs(model, 1, 28, 28);
        long Macs(ModelSpec s)
        {
            using var m = ModelZoo.Create(s);
            return ModelComplexity.Macs(m, 1, 28, 28);
        }

        var (ratio, keep) = ChannelPruner.SelectForCost(layout, ChannelPruner.Score(model, layout, PruningCriterion.L1), scope, Macs, full / 2);

        var macs = Macs(layout.WithSizes([.. keep.Select(k => k.Length)]));
        Assert.InRange(macs, full / 4, full / 2);
        Assert.InRange(ratio, 0.01, 0.99);
    }

    [Theory]
    [InlineData("avgpool_linear")]
    [InlineData("resnet18")]
    public void For_UnsupportedFamily_ThrowsNamingIt(string name)
    {
        var error = Assert.Throws<NotSupportedException>(() => PruningLayouts.For(new ModelSpec { Name = name }));

        Assert.StartsWith($"pruning {name} is not supported", error.Message, StringComparison.Ordinal);
    }
}
