using KdData.Models;
using static TorchSharp.torch;

namespace KdData.Tests.Models;

/// <summary>The <c>ensemble</c> architecture: its output against hand-computed mean probabilities, its checks and its record.</summary>
public sealed class EnsembleModuleTests
{
    private static ModelSpec Linear(int classes = 2, int channels = 1) => new() { Name = "avgpool_linear", NumClasses = classes, InChannels = channels };

    private static ModelSpec Ensemble(params ModelSpec[] members) =>
        new() { Name = "ensemble", NumClasses = members[0].NumClasses, InChannels = members[0].InChannels, Members = members };

    /// <summary>Sets member <paramref name="index"/>'s logits for an all-ones image to <paramref name="logits"/> (weights 0, bias = logits).</summary>
    private static void SetLogits(nn.Module ensemble, int index, params float[] logits)
    {
        var state = ensemble.state_dict();
        using var noGrad = no_grad();
        state[$"members.{index}.fc.weight"].zero_();
        state[$"members.{index}.fc.bias"].copy_(tensor(logits));
    }

    [Fact]
    public void Forward_TwoMembers_IsTheLogOfTheirMeanProbabilities()
    {
        using var model = ModelZoo.Create(Ensemble(Linear(), Linear()));
        model.eval();
        // Member 0: softmax [0, ln 3] = [1/4, 3/4]; member 1: softmax [0, 0] = [1/2, 1/2]; mean [3/8, 5/8].
        SetLogits(model, 0, 0f, MathF.Log(3));
        SetLogits(model, 1, 0f, 0f);
        using var scope = NewDisposeScope();

        var output = model.call(ones(3, 1, 4, 4)).data<float>().ToArray();

        Assert.Equal(6, output.Length);
        for (var row = 0; row < 3; row++)
        {
            Assert.Equal(Math.Log(3.0 / 8), output[2 * row], 5);
            Assert.Equal(Math.Log(5.0 / 8), output[(2 * row) + 1], 5);
        }
    }

    [Fact]
    public void Forward_MembersOfDifferentLogitScales_AveragesProbabilitiesNotLogits()
    {
        using var model = ModelZoo.Create(Ensemble(Linear(3), Linear(3), Linear(3)));
        model.eval();
        SetLogits(model, 0, 10f, 0f, 0f);   // sure of class 0
        SetLogits(model, 1, 0f, 1f, 0f);
        SetLogits(model, 2, 0f, 1f, 0f);
        using var scope = NewDisposeScope();

        var probabilities = model.call(ones(1, 1, 2, 2)).softmax(1).data<float>().ToArray();

        double Softmax(double[] z, int k) => Math.Exp(z[k]) / z.Sum(Math.Exp);
        double[] a = [10, 0, 0], b = [0, 1, 0];
        for (var k = 0; k < 3; k++)
        {
            Assert.Equal((Softmax(a, k) + (2 * Softmax(b, k))) / 3, probabilities[k], 5);
        }
        // The mean of the logits, [10/3, 2/3, 0], would give class 0 a probability of about 0.90 instead of 0.47.
        Assert.InRange(probabilities[0], 0.47, 0.48);
    }

    [Theory]
    [InlineData(1, "Members", "two or more")]
    [InlineData(0, "Members", "two or more")]
    public void Create_FewerThanTwoMembers_ThrowsNamingMembers(int count, string setting, string reason)
    {
        var spec = new ModelSpec { Name = "ensemble", NumClasses = 2, InChannels = 1, Members = count == 0 ? null : [Linear()] };

        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(spec));

        Assert.Contains($"'{setting}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_MemberWithOtherClasses_ThrowsNamingTheMember()
    {
        var spec = Ensemble(Linear(2), Linear(3)) with { NumClasses = 2 };

        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(spec));

        Assert.Contains("member 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NestedEnsemble_Throws()
    {
        var spec = Ensemble(Linear(), Ensemble(Linear(), Linear()));

        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create(spec));

        Assert.Contains("is an ensemble itself", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_SettingOfAnotherFamily_ThrowsNamingIt()
    {
        Assert.Contains("'Width'", Assert.Throws<ArgumentException>(() => ModelZoo.Create(Ensemble(Linear(), Linear()) with { Width = 8 })).Message, StringComparison.Ordinal);
        Assert.Contains("'Members'", Assert.Throws<ArgumentException>(() => ModelZoo.Create(new ModelSpec { Name = "convnet", Members = [Linear(), Linear()] })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Macs_Ensemble_IsTheSumOfItsMembers()
    {
        var small = new ModelSpec { Name = "convnet", Width = 8, NumClasses = 10, InChannels = 1 };
        var large = small with { Width = 16 };
        using var a = ModelZoo.Create(small);
        using var b = ModelZoo.Create(large);
        using var ensemble = ModelZoo.Create(Ensemble(small, large));

        Assert.Equal(ModelComplexity.Macs(a, 1, 28, 28) + ModelComplexity.Macs(b, 1, 28, 28), ModelComplexity.Macs(ensemble, 1, 28, 28));
        Assert.Equal(ModelComplexity.Parameters(a) + ModelComplexity.Parameters(b), ModelComplexity.Parameters(ensemble));
    }

    [Fact]
    public void EncodeDecode_Ensemble_RoundTripsMembersAndOutputs()
    {
        var spec = Ensemble(new ModelSpec { Name = "convnet", Width = 8, NumClasses = 10, InChannels = 1 }, new ModelSpec { Name = "convnet", Width = 4, Depth = 2, NumClasses = 10, InChannels = 1 });
        manual_seed(5);
        using var model = ModelZoo.Create(spec);
        model.eval();
        var encoded = CheckpointSerializer.Encode(model, new CheckpointRecord { Architecture = spec });

        var decoded = CheckpointSerializer.Decode(encoded.Weights, encoded.RecordJson);
        using var copy = decoded.Model;
        copy.eval();

        Assert.Equal(spec, decoded.Record.Architecture);
        var json = System.Text.Json.Nodes.JsonNode.Parse(encoded.RecordJson.Span)!;
        Assert.Equal("convnet", (string?)json["architecture"]!["members"]![1]!["name"]);
        Assert.Equal(2, (int?)json["architecture"]!["members"]![1]!["depth"]);
        using var scope = NewDisposeScope();
        var input = randn(2, 1, 28, 28);
        Assert.True(model.call(input).allclose(copy.call(input), rtol: 1e-5, atol: 1e-6));
    }
}
