using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Models;
using KdData.Records;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Models;

public sealed class CheckpointSerializerTests
{
    public static TheoryData<ModelSpec, WeightsFormat> Families() => new()
    {
        { new ModelSpec { Name = "resnet18", NumClasses = 3, InChannels = 1, Stem = ResNetStem.Small }, WeightsFormat.Safetensors },
        { new ModelSpec { Name = "mobilenet_v2", NumClasses = 3, WidthMult = 0.5 }, WeightsFormat.Safetensors },
        { new ModelSpec { Name = "convnet", NumClasses = 3, InChannels = 1, Width = 8, Depth = 2 }, WeightsFormat.Safetensors },
        { new ModelSpec { Name = "wrn", NumClasses = 3, Depth = 10, WidenFactor = 1, DropRate = 0.1 }, WeightsFormat.Safetensors },
        { new ModelSpec { Name = "resnet18", NumClasses = 3 }, WeightsFormat.TorchSharp },
        { new ModelSpec { Name = "wrn", NumClasses = 3, Depth = 10, WidenFactor = 1 }, WeightsFormat.TorchSharp },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void EncodeDecode_EachFamily_RestoresWeightsAndRecordExactly(ModelSpec spec, WeightsFormat format)
    {
        using var model = CreateWithUpdatedStatistics(spec);
        var record = SampleRecord(spec) with { WeightsFormat = format };

        var encoded = CheckpointSerializer.Encode(model, record);
        using var loaded = CheckpointSerializer.Decode(encoded.Weights, encoded.RecordJson);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(encoded.Weights.Span)), loaded.Record.WeightsSha256);
        AssertSameRecord(record, loaded.Record);
        AssertSameState(model, loaded.Model);
        AssertSameEvalOutput(model, loaded.Model, spec.InChannels);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Decode_TamperedWeights_ThrowsShaMismatch(ModelSpec spec, WeightsFormat format)
    {
        using var model = ModelZoo.Create(spec);
        var encoded = CheckpointSerializer.Encode(model, SampleRecord(spec) with { WeightsFormat = format });
        var tampered = encoded.Weights.ToArray();
        tampered[^5] ^= 0x01;

        var ex = Assert.Throws<InvalidDataException>(() => CheckpointSerializer.Decode(tampered, encoded.RecordJson));

        Assert.Contains("SHA-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_RecordNamingOtherArchitecture_ThrowsInvalidData()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3, Width = 8, Depth = 2 };
        using var model = ModelZoo.Create(spec);
        var encoded = CheckpointSerializer.Encode(model, SampleRecord(spec));
        var lying = encoded.Record with { Architecture = spec with { Depth = 3 } };

        Assert.Throws<InvalidDataException>(() =>
            CheckpointSerializer.Decode(encoded.Weights, CheckpointSerializer.SerializeRecord(lying)));
    }

    [Fact]
    public void Decode_RecordWithUnknownArchitecture_ThrowsNamingIt()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3, Width = 8, Depth = 1 };
        using var model = ModelZoo.Create(spec);
        var encoded = CheckpointSerializer.Encode(model, SampleRecord(spec));
        var json = Encoding.UTF8.GetString(encoded.RecordJson.Span).Replace("\"convnet\"", "\"lenet\"", StringComparison.Ordinal);

        var ex = Assert.Throws<InvalidDataException>(() => CheckpointSerializer.Decode(encoded.Weights, Encoding.UTF8.GetBytes(json)));

        Assert.Contains("lenet", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_ClassCountDifferentFromNumClasses_Throws()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3, Width = 8, Depth = 1 };
        using var model = ModelZoo.Create(spec);

        var ex = Assert.Throws<InvalidDataException>(() =>
            CheckpointSerializer.Encode(model, SampleRecord(spec) with { Classes = ["a", "b"] }));

        Assert.Contains("classes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveLoad_Directory_WritesSideBySideFilesAndRoundTrips()
    {
        using var temp = new TempDirectory();
        var spec = new ModelSpec { Name = "wrn", NumClasses = 3, Depth = 10, WidenFactor = 1 };
        using var model = CreateWithUpdatedStatistics(spec);
        var record = SampleRecord(spec);

        var recordPath = await CheckpointSerializer.SaveAsync(model, record, temp.Path, "student-v1");
        using var loaded = await CheckpointSerializer.LoadAsync(recordPath);

        Assert.Equal(Path.Combine(temp.Path, "student-v1.json"), recordPath);
        var weightsPath = Path.Combine(temp.Path, "student-v1.safetensors");
        Assert.True(File.Exists(weightsPath));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weightsPath))), loaded.Record.WeightsSha256);
        AssertSameRecord(record, loaded.Record);
        AssertSameState(model, loaded.Model);
    }

    [Fact]
    public async Task Load_WeightsFileMissing_ThrowsFileNotFound()
    {
        using var temp = new TempDirectory();
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3, Width = 8, Depth = 1 };
        using var model = ModelZoo.Create(spec);
        var recordPath = await CheckpointSerializer.SaveAsync(model, SampleRecord(spec), temp.Path, "c");
        File.Delete(Path.Combine(temp.Path, "c.safetensors"));

        var ex = await Assert.ThrowsAsync<FileNotFoundException>(() => CheckpointSerializer.LoadAsync(recordPath));

        Assert.Contains("c.safetensors", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteRead_Streams_RoundTrips()
    {
        var spec = new ModelSpec { Name = "mobilenet_v2", NumClasses = 3, InChannels = 1, WidthMult = 0.25 };
        using var model = CreateWithUpdatedStatistics(spec);
        var record = SampleRecord(spec);
        using var weights = new MemoryStream();
        using var json = new MemoryStream();

        var written = await CheckpointSerializer.WriteAsync(model, record, weights, json);
        weights.Position = 0;
        json.Position = 0;
        using var loaded = await CheckpointSerializer.ReadAsync(weights, json);

        Assert.Equal(written.WeightsSha256, loaded.Record.WeightsSha256);
        AssertSameRecord(record, loaded.Record);
        AssertSameState(model, loaded.Model);
    }

    [Fact]
    public void Decode_RecordWrittenByHandInSnakeCase_LoadsPyTorchStyleWeights()
    {
        // The workflow for a teacher trained in PyTorch: safetensors from state_dict() plus a hand-written record.
        var spec = new ModelSpec { Name = "convnet", NumClasses = 2, InChannels = 1, Width = 8, Depth = 2 };
        using var source = CreateWithUpdatedStatistics(spec);
        var weights = ModelWeights.Export(source);
        var json = $$"""
            {
              "format_version": 1,
              "architecture": { "name": "convnet", "num_classes": 2, "in_channels": 1, "width": 8, "depth": 2 },
              "classes": ["cat", "dog"],
              "preprocessing": { "width": 28, "height": 28, "channels": 1, "mean": [0.5], "std": [0.25] },
              "training": { "optimizer": "sgd", "epochs": 3 },
              "metrics": { "val_accuracy": 0.75 },
              "weights_format": "safetensors",
              "weights_sha256": "{{Convert.ToHexStringLower(SHA256.HashData(weights))}}"
            }
            """;

        using var loaded = CheckpointSerializer.Decode(weights, Encoding.UTF8.GetBytes(json));

        Assert.Equal(spec, loaded.Record.Architecture);
        Assert.Equal(["cat", "dog"], loaded.Record.Classes);
        Assert.Equal(28, loaded.Record.Preprocessing!.Width);
        Assert.Equal(0.25f, loaded.Record.Preprocessing.Std[0]);
        Assert.Equal(3, loaded.Record.Training.Epochs);
        Assert.Equal("sgd", loaded.Record.Training.Other!["optimizer"].GetString());
        Assert.Equal(0.75, loaded.Record.Metrics["val_accuracy"]);
        AssertSameState(source, loaded.Model);
    }

    [Fact]
    public void SerializeRecord_UsesSnakeCaseAndOmitsUnsetSettings()
    {
        var spec = new ModelSpec { Name = "wrn", NumClasses = 3, Depth = 10 };

        var json = JsonNode.Parse(CheckpointSerializer.SerializeRecord(SampleRecord(spec)))!.AsObject();

        var architecture = json["architecture"]!.AsObject();
        Assert.Equal(3, (int)architecture["num_classes"]!);
        Assert.Equal(10, (int)architecture["depth"]!);
        Assert.False(architecture.ContainsKey("widen_factor"));
        Assert.Equal("safetensors", (string)json["weights_format"]!);
        Assert.Equal(0.5, (double)json["metrics"]!["val_accuracy"]!);
    }

    [Fact]
    public void SerializeRecord_NonFiniteMetric_RoundTrips()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3, Width = 8, Depth = 1 };
        var record = SampleRecord(spec) with
        {
            Metrics = new Dictionary<string, double> { ["val_loss"] = double.NaN, ["grad_norm"] = double.PositiveInfinity },
            WeightsSha256 = new string('0', 64),
        };

        var parsed = CheckpointSerializer.ParseRecord(CheckpointSerializer.SerializeRecord(record));

        Assert.True(double.IsNaN(parsed.Metrics["val_loss"]));
        Assert.Equal(double.PositiveInfinity, parsed.Metrics["grad_norm"]);
    }

    [Fact]
    public void ParseRecord_WithoutSha_ThrowsNamingField()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 3 };

        var ex = Assert.Throws<InvalidDataException>(() =>
            CheckpointSerializer.ParseRecord(CheckpointSerializer.SerializeRecord(SampleRecord(spec))));

        Assert.Contains("weights_sha256", ex.Message, StringComparison.Ordinal);
    }

    private static CheckpointRecord SampleRecord(ModelSpec spec) => new()
    {
        Architecture = spec,
        Classes = [.. Enumerable.Range(0, spec.NumClasses).Select(i => $"class-{i}")],
        Preprocessing = new PreprocessingRecord
        {
            Width = 32,
            Height = 32,
            Channels = spec.InChannels,
            Mean = [.. Enumerable.Repeat(0.5f, spec.InChannels)],
            Std = [.. Enumerable.Repeat(0.25f, spec.InChannels)],
        },
        Training = new TrainingRecord
        {
            Objective = "kd",
            Epoch = 3,
            Other = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{ "lr": 0.001, "teacher": { "name": "resnet50" } }"""),
        },
        Metrics = new Dictionary<string, double> { ["val_accuracy"] = 0.5, ["val_loss"] = 1.25 },
    };

    /// <summary>One training-mode forward pass moves the BatchNorm statistics away from their initial values.</summary>
    private static nn.Module<Tensor, Tensor> CreateWithUpdatedStatistics(ModelSpec spec)
    {
        manual_seed(42);
        var model = ModelZoo.Create(spec);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.call(randn(4, spec.InChannels, 32, 32));
        return model;
    }

    private static void AssertSameRecord(CheckpointRecord expected, CheckpointRecord actual)
    {
        Assert.Equal(expected.Architecture, actual.Architecture);
        Assert.Equal(expected.Classes, actual.Classes);
        Assert.Equal(expected.Preprocessing!.Width, actual.Preprocessing!.Width);
        Assert.Equal(expected.Preprocessing.Height, actual.Preprocessing.Height);
        Assert.Equal(expected.Preprocessing.Channels, actual.Preprocessing.Channels);
        Assert.Equal(expected.Preprocessing.Mean, actual.Preprocessing.Mean);
        Assert.Equal(expected.Preprocessing.Std, actual.Preprocessing.Std);
        Assert.Equal(expected.Training.Objective, actual.Training.Objective);
        Assert.Equal(expected.Training.Epoch, actual.Training.Epoch);
        Assert.Equal(expected.Training.Other!.Keys, actual.Training.Other!.Keys);
        Assert.All(expected.Training.Other, p => Assert.True(JsonElement.DeepEquals(p.Value, actual.Training.Other[p.Key]), p.Key));
        Assert.Equal(expected.Metrics.OrderBy(m => m.Key), actual.Metrics.OrderBy(m => m.Key));
        Assert.Equal(expected.WeightsFormat, actual.WeightsFormat);
    }

    private static void AssertSameState(nn.Module expected, nn.Module actual)
    {
        var expectedState = expected.state_dict();
        var actualState = actual.state_dict();
        Assert.Equal(expectedState.Keys.Order(StringComparer.Ordinal), actualState.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in expectedState)
        {
            var other = actualState[name];
            Assert.Equal(tensor.dtype, other.dtype);
            Assert.Equal(tensor.shape, other.shape);
            Assert.True(tensor.bytes.SequenceEqual(other.bytes), $"state entry '{name}' differs");
        }
        // The statistics were changed before saving, so equality cannot come from identical initialization.
        Assert.Contains(expectedState, e => e.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal) && e.Value.item<long>() == 1);
    }

    private static void AssertSameEvalOutput(nn.Module<Tensor, Tensor> expected, nn.Module<Tensor, Tensor> actual, int channels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        expected.eval();
        actual.eval();
        var input = randn(2, channels, 32, 32);
        Assert.True(expected.call(input).bytes.SequenceEqual(actual.call(input).bytes), "eval outputs differ");
    }
}
