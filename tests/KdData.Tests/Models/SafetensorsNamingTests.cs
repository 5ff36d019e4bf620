using KdData.Models;

namespace KdData.Tests.Models;

/// <summary>The exported safetensors use TorchVision's state-dict names, so PyTorch weights load both ways.</summary>
public sealed class SafetensorsNamingTests
{
    // resnet18: 20 convolutions (conv1, 16 in blocks, 3 downsample; no bias) = 20 entries;
    // 20 BatchNorms x (weight, bias, running_mean, running_var, num_batches_tracked) = 100; fc weight + bias = 2.
    private const int ResNet18StateEntries = 20 + (20 * 5) + 2;
    private const int ResNet18Parameters = 20 + (20 * 2) + 2;

    // mobilenet_v2: 52 convolutions (stem, 2 in the t=1 block, 3 in each of the 16 others, last 1x1) each with a
    // BatchNorm, plus classifier.1 weight + bias.
    private const int MobileNetV2StateEntries = 52 + (52 * 5) + 2;
    private const int MobileNetV2Parameters = 52 + (52 * 2) + 2;

    private static readonly string[] ResNet18Names =
    [
        "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
        "layer1.0.conv1.weight", "layer1.0.bn1.running_var", "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight", "layer4.1.bn2.num_batches_tracked",
        "fc.weight", "fc.bias",
    ];

    private static readonly string[] MobileNetV2Names =
    [
        "features.0.0.weight", "features.0.1.running_mean", "features.1.conv.0.0.weight", "features.1.conv.1.weight",
        "features.2.conv.0.0.weight", "features.2.conv.3.num_batches_tracked", "features.18.0.weight",
        "features.18.1.bias", "classifier.1.weight", "classifier.1.bias",
    ];

    [Fact]
    public void Export_ResNet18_UsesTorchVisionNamesAndCount()
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "resnet18", NumClasses = 5 });

        var shapes = SafetensorsHeader.ReadShapes(ModelWeights.Export(model));

        Assert.All(ResNet18Names, name => Assert.Contains(name, shapes.Keys));
        Assert.Equal(ResNet18StateEntries, shapes.Count);
        Assert.Equal(122, shapes.Count);
        Assert.Equal(ResNet18Parameters, model.parameters().Count());
        Assert.Equal([5L, 512L], shapes["fc.weight"]);
        Assert.Equal([64L, 3L, 7L, 7L], shapes["conv1.weight"]);
    }

    [Fact]
    public void Export_ResNet18WithOneChannelSmallStem_KeepsTorchVisionNames()
    {
        using var reference = ModelZoo.Create(new ModelSpec { Name = "resnet18", NumClasses = 5 });
        using var adapted = ModelZoo.Create(new ModelSpec { Name = "resnet18", NumClasses = 5, InChannels = 1, Stem = ResNetStem.Small });

        var referenceShapes = SafetensorsHeader.ReadShapes(ModelWeights.Export(reference));
        var adaptedShapes = SafetensorsHeader.ReadShapes(ModelWeights.Export(adapted));

        Assert.Equal(referenceShapes.Keys.Order(StringComparer.Ordinal), adaptedShapes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([64L, 1L, 3L, 3L], adaptedShapes["conv1.weight"]);
        Assert.Equal(ResNet18Parameters, adapted.parameters().Count());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    public void Export_MobileNetV2_UsesTorchVisionNamesAndCount(int channels)
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "mobilenet_v2", NumClasses = 4, InChannels = channels });

        var shapes = SafetensorsHeader.ReadShapes(ModelWeights.Export(model));

        Assert.All(MobileNetV2Names, name => Assert.Contains(name, shapes.Keys));
        Assert.Equal(MobileNetV2StateEntries, shapes.Count);
        Assert.Equal(MobileNetV2Parameters, model.parameters().Count());
        Assert.Equal([32L, channels, 3L, 3L], shapes["features.0.0.weight"]);
        Assert.Equal([4L, 1280L], shapes["classifier.1.weight"]);
    }
}
