using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>Forward hooks capture the named layer's output, and it survives the module's own dispose scope.</summary>
public sealed class FeatureTapsTests
{
    private static nn.Module<Tensor, Tensor> ConvNet()
    {
        manual_seed(7);
        return ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 4, NumClasses = 10, InChannels = 1 });
    }

    private static nn.Module<Tensor, Tensor> Sub(nn.Module network, string path) =>
        (nn.Module<Tensor, Tensor>)network.named_modules().Single(m => m.name == path).module;

    [Fact]
    public void Indexer_AfterForward_HoldsTheNamedLayersOutputAsAManualForwardComputesIt()
    {
        using var scope = NewDisposeScope();
        using var net = ConvNet();
        net.eval();
        using var taps = new FeatureTaps(net, ["features.1", FeatureTaps.Penultimate], "test");
        var x = randn(3, 1, 28, 28);

        taps.Begin();
        net.call(x);
        // The network's forward has returned and its dispose scope is gone: the captures must still be readable.
        var captured = taps["features.1"].clone();
        var penultimate = taps[FeatureTaps.Penultimate].clone();
        taps.Clear();
        Assert.Throws<InvalidOperationException>(() => taps["features.1"]);

        // The same layers called by hand (not capturing any more, so the taps stay empty).
        using var noGrad = no_grad();
        var manual = Sub(net, "features.1").call(Sub(net, "features.0").call(x));
        var pooled = Sub(net, "pool").call(Sub(net, "features.2").call(manual)).flatten(1);
        Assert.Throws<InvalidOperationException>(() => taps["features.1"]);
        Assert.Equal([3L, 8, 7, 7], captured.shape);
        Assert.True(captured.allclose(manual, rtol: 0, atol: 1e-6));
        Assert.Equal([3L, 16], penultimate.shape);
        Assert.True(penultimate.allclose(pooled, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void Indexer_ForwardWithoutBegin_CapturesNothing()
    {
        using var scope = NewDisposeScope();
        using var net = ConvNet();
        using var taps = new FeatureTaps(net, ["features.0"], "test");

        net.call(randn(2, 1, 28, 28));

        Assert.Throws<InvalidOperationException>(() => taps["features.0"]);
    }

    [Fact]
    public void Constructor_UnknownPath_ThrowsInvalidInputListingValidPaths()
    {
        using var net = ConvNet();

        var error = Assert.Throws<InvalidInputException>(() => new FeatureTaps(net, ["features.9"], "Trainer:Objective:Hint:StudentLayer"));

        Assert.Contains("Trainer:Objective:Hint:StudentLayer", error.Message, StringComparison.Ordinal);
        Assert.Contains("'features.9'", error.Message, StringComparison.Ordinal);
        Assert.Contains("features.1.0", error.Message, StringComparison.Ordinal);
        Assert.Contains("fc", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_PenultimateOfAnEnsemble_ThrowsInvalidInputAndAMemberLayerWorks()
    {
        var member = new ModelSpec { Name = "convnet", Width = 4, NumClasses = 10, InChannels = 1 };
        using var net = ModelZoo.Create(new ModelSpec { Name = "ensemble", NumClasses = 10, InChannels = 1, Members = [member, member] });

        var error = Assert.Throws<InvalidInputException>(() => new FeatureTaps(net, [FeatureTaps.Penultimate], "Trainer:Objective:Rkd:TeacherLayer"));

        Assert.StartsWith("Trainer:Objective:Rkd:TeacherLayer: an ensemble has no one penultimate embedding", error.Message, StringComparison.Ordinal);
        Assert.Contains("members.1.features.2", error.Message, StringComparison.Ordinal);
        using var taps = new FeatureTaps(net, ["members.1.features.2"], "test");
        taps.Begin();
        using var scope = NewDisposeScope();
        net.call(randn(2, 1, 28, 28));
        Assert.Equal([2L, 16, 4, 4], taps["members.1.features.2"].shape);
    }
}
