using KdData.Models;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Models;

[Trait("Category", "Slow")]
public sealed class ModelWeightsTests
{
    [Theory]
    [InlineData("resnet18", WeightsFormat.Safetensors)]
    [InlineData("convnet", WeightsFormat.Safetensors)]
    [InlineData("convnet", WeightsFormat.TorchSharp)]
    public void Import_LoadedModel_RequiresGradAndTrains(string name, WeightsFormat format)
    {
        var spec = new ModelSpec { Name = name, NumClasses = 4 };
        manual_seed(7);
        byte[] weights;
        using (var source = ModelZoo.Create(spec))
        {
            weights = ModelWeights.Export(source, format);
        }
        using var model = ModelZoo.Create(spec);

        ModelWeights.Import(model, weights, format);

        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        var (first, last) = TrainSteps(model, steps: 20);
        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Decode_CheckpointModel_RequiresGradAndTrains()
    {
        var spec = new ModelSpec { Name = "wrn", NumClasses = 4, Depth = 10, WidenFactor = 1 };
        manual_seed(8);
        using var source = ModelZoo.Create(spec);
        var encoded = CheckpointSerializer.Encode(source, new CheckpointRecord { Architecture = spec });

        using var loaded = CheckpointSerializer.Decode(encoded.Weights, encoded.RecordJson);

        Assert.All(loaded.Model.parameters(), p => Assert.True(p.requires_grad));
        var (first, last) = TrainSteps(loaded.Model, steps: 20);
        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
    }

    [Fact]
    public void Import_SafetensorsWrittenLikePyTorch_LoadsEachTensorByName()
    {
        // A file as PyTorch's safetensors.torch.save_file would write for torchvision.models.resnet18(num_classes=4):
        // names and shapes from TorchVision's layout, each tensor filled with its own value.
        var spec = new ModelSpec { Name = "resnet18", NumClasses = 4 };
        using var model = ModelZoo.Create(spec);
        var expected = new Dictionary<string, double>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, (string, long[], byte[])>(StringComparer.Ordinal);
        var index = 0;
        foreach (var (name, tensor) in model.state_dict())
        {
            index++;
            var count = tensor.numel();
            if (tensor.dtype == ScalarType.Int64)
            {
                tensors[name] = ("I64", tensor.shape, SafetensorsWriter.Int64(count, index));
                expected[name] = index;
            }
            else
            {
                tensors[name] = ("F32", tensor.shape, SafetensorsWriter.Float32(count, index / 1024f));
                expected[name] = index / 1024f;
            }
        }
        Assert.Equal(122, tensors.Count);

        ModelWeights.Import(model, SafetensorsWriter.Write(tensors));

        foreach (var (name, tensor) in model.state_dict())
        {
            Assert.True(tensor.eq(expected[name]).all().item<bool>(), $"'{name}' was not loaded from its own entry");
        }
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void Import_IntoFrozenModule_LeavesEveryParameterTrainable()
    {
        var spec = new ModelSpec { Name = "convnet", Width = 8, Depth = 2 };
        using var source = ModelZoo.Create(spec);
        using var target = ModelZoo.Create(spec);
        foreach (var parameter in target.parameters())
        {
            parameter.requires_grad = false;
        }

        ModelWeights.Import(target, ModelWeights.Export(source));

        Assert.All(target.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void Import_WeightsOfAnotherArchitecture_ThrowsInvalidData()
    {
        using var convnet = ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 8, Depth = 1 });
        using var wrn = ModelZoo.Create(new ModelSpec { Name = "wrn", Depth = 10, WidenFactor = 1 });

        Assert.Throws<InvalidDataException>(() => ModelWeights.Import(wrn, ModelWeights.Export(convnet)));
    }

    [Theory]
    [InlineData(WeightsFormat.Safetensors, ".safetensors")]
    [InlineData(WeightsFormat.TorchSharp, ".dat")]
    public void FileExtension_Format_IsConventional(WeightsFormat format, string extension)
    {
        Assert.Equal(extension, ModelWeights.FileExtension(format));
    }

    /// <summary>Adam on one fixed batch; returns the loss of the first and the last step.</summary>
    private static (float First, float Last) TrainSteps(nn.Module<Tensor, Tensor> model, int steps)
    {
        manual_seed(11);
        using var inputs = randn(8, 3, 32, 32);
        using var targets = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        // BatchNorm's own step count passes a Scalar the GC may free mid-call (see BatchNormStepCounter).
        using var counter = new BatchNormStepCounter(model);
        model.train();
        float first = float.NaN, last = float.NaN;
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(counter.Forward(() => model.call(inputs)), targets);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0)
            {
                first = last;
            }
        }
        return (first, last);
    }
}
