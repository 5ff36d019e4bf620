using KdData.Export;
using KdData.Models;
using static TorchSharp.torch;

namespace KdData.Tests.Export;

public sealed class OnnxExporterTests
{
    public static TheoryData<ModelSpec> Families() => new()
    {
        new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 8, Depth = 3 },
        new ModelSpec { Name = "wrn", NumClasses = 10, InChannels = 1, Depth = 10, WidenFactor = 1 },
        new ModelSpec { Name = "mobilenet_v2", NumClasses = 10, InChannels = 1, WidthMult = 0.25 },
        new ModelSpec { Name = "resnet18", NumClasses = 10, InChannels = 1, Stem = ResNetStem.Small },
        new ModelSpec { Name = "avgpool_linear", NumClasses = 10, InChannels = 1 },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Export_EachFamily_OnnxRuntimeLogitsEqualTorchSharpAtBatch5And1(ModelSpec spec)
    {
        var (pixels, _) = await ExportSamples.TestImagesAsync();
        using var model = ExportSamples.CreateWithRandomNorms(spec);

        var onnx = OnnxExporter.Export(model, ExportSamples.OptionsFor(spec));
        using var session = new OnnxModelSession(OnnxExporter.ToBytes(onnx), threads: 1);

        foreach (var batch in new[] { 5, 1 })
        {
            var expected = ExportSamples.TorchLogits(model, pixels, batch);
            var actual = session.Run(pixels, batch);
            Assert.Equal(batch * spec.NumClasses, actual.Length);
            Assert.InRange(ExportSamples.MaxAbsDifference(expected, actual), 0, 1e-4);
        }
        // Every BatchNorm that follows a conv is folded away; only pre-activation ones (wrn) remain as nodes.
        var bnNodes = onnx.Graph.Node.Count(n => n.OpType == "BatchNormalization");
        Assert.Equal(spec.Name == "wrn" ? 1 + (3 * 1) : 0, bnNodes);
    }

    public static TheoryData<ModelSpec> TorchVisionAsBuilt() => new()
    {
        new ModelSpec { Name = "resnet18", NumClasses = 7 }, // TorchVision's own ResNet: 7x7/2 stem + padded 3x3/2 max-pool
        new ModelSpec { Name = "resnet18", NumClasses = 7, InChannels = 1 }, // stem-adapted, still the ImageNet stem
        new ModelSpec { Name = "mobilenet_v2", NumClasses = 7, WidthMult = 0.25 }, // TorchVision's own MobileNetV2
    };

    [Theory]
    [MemberData(nameof(TorchVisionAsBuilt))]
    public void Export_TorchVisionModelsAsBuilt_OnnxRuntimeLogitsEqualTorchSharp(ModelSpec spec)
    {
        using var model = ExportSamples.CreateWithRandomNorms(spec);
        const int size = 40;
        var options = new OnnxExportOptions { Channels = spec.InChannels, Height = size, Width = size, NumClasses = spec.NumClasses };
        var inputs = EvaluationImages.Random(3, spec.InChannels, size, size, spec.NumClasses, seed: 5);

        using var session = new OnnxModelSession(OnnxExporter.ToBytes(OnnxExporter.Export(model, options)), threads: 1);

        float[] expected;
        using (NewDisposeScope())
        using (no_grad())
        {
            expected = model.call(tensor(inputs.Pixels, [3, spec.InChannels, size, size])).data<float>().ToArray();
        }
        Assert.InRange(ExportSamples.MaxAbsDifference(expected, session.Run(inputs.Pixels, 3)), 0, 1e-4);
    }

    [Fact]
    public async Task Export_FoldedVersusUnfoldedBatchNorm_SameLogitsWithinFloatError()
    {
        var (pixels, _) = await ExportSamples.TestImagesAsync();
        var spec = new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 8, Depth = 3 };
        using var model = ExportSamples.CreateWithRandomNorms(spec, seed: 11);

        var folded = OnnxExporter.Export(model, ExportSamples.OptionsFor(spec));
        var unfolded = OnnxExporter.Export(model, ExportSamples.OptionsFor(spec) with { FoldBatchNorm = false });
        using var foldedSession = new OnnxModelSession(OnnxExporter.ToBytes(folded), threads: 1);
        using var unfoldedSession = new OnnxModelSession(OnnxExporter.ToBytes(unfolded), threads: 1);

        Assert.Equal(0, folded.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        Assert.Equal(3, unfolded.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        var a = foldedSession.Run(pixels, 8);
        var b = unfoldedSession.Run(pixels, 8);
        var scale = b.Max(Math.Abs);
        Assert.True(scale > 0.1, "the logits are not trivially small");
        Assert.InRange(ExportSamples.MaxAbsDifference(a, b), 0, 1e-5 * Math.Max(1, scale));
    }

    [Fact]
    public void Export_Graph_HasNamedInputOutputDynamicBatchAndOpset17()
    {
        var spec = new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 4, Depth = 2 };
        using var model = ExportSamples.CreateWithRandomNorms(spec);

        var onnx = OnnxExporter.Export(model, ExportSamples.OptionsFor(spec));

        Assert.Equal(17, onnx.OpsetImport.Single().Version);
        var input = onnx.Graph.Input.Single();
        var output = onnx.Graph.Output.Single();
        Assert.Equal("input", input.Name);
        Assert.Equal("logits", output.Name);
        Assert.Equal("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal("batch", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal([1L, 28, 28], input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        Assert.Equal(10, output.Type.TensorType.Shape.Dim[1].DimValue);
        // The weights keep their PyTorch names, so the graph can be read against the safetensors file.
        Assert.Contains(onnx.Graph.Initializer, t => t.Name == "features.0.0.weight");
        Assert.Contains(onnx.Graph.Initializer, t => t.Name == "fc.weight");
    }

    [Fact]
    public void Export_UnsupportedModule_ThrowsNamingPathAndType()
    {
        using var model = nn.Sequential(("stem", nn.Conv2d(1, 4, 3)), ("act", nn.GELU()), ("pool", nn.AdaptiveAvgPool2d(1)));

        var ex = Assert.Throws<UnsupportedLayerException>(() =>
            OnnxExporter.Export(model, new OnnxExportOptions { Channels = 1, Height = 8, Width = 8, NumClasses = 4 }));

        Assert.Equal("act", ex.ModulePath);
        Assert.Contains("GELU", ex.ModuleType, StringComparison.Ordinal);
        Assert.Contains("'act'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_LayerRewriter_CalledForEveryConvAndGemmAndItsNamesAreUsed()
    {
        var (pixels, _) = await ExportSamples.TestImagesAsync();
        var spec = new ModelSpec { Name = "mobilenet_v2", NumClasses = 10, InChannels = 1, WidthMult = 0.25 };
        using var model = ExportSamples.CreateWithRandomNorms(spec);
        var seen = new List<OnnxWeightedLayer>();
        // A stand-in for QDQ: route every weight through a new node (Identity) and let the layer read its output.
        var options = ExportSamples.OptionsFor(spec) with
        {
            LayerRewriter = (graph, layer) =>
            {
                seen.Add(layer);
                Assert.True(graph.TryGetFloatInitializer(layer.Weight, out var weights, out var dims));
                Assert.Equal(dims.Aggregate(1L, (a, d) => a * d), weights.Length);
                return layer with { Weight = graph.AddNode("Identity", [layer.Weight], layer.Weight + "_routed") };
            },
        };

        var onnx = OnnxExporter.Export(model, options);
        using var session = new OnnxModelSession(OnnxExporter.ToBytes(onnx), threads: 1);

        var weighted = model.modules().Count(m => m is TorchSharp.Modules.Conv2d or TorchSharp.Modules.Linear);
        Assert.Equal(weighted, seen.Count);
        Assert.Contains(seen, l => l.OpType == "Conv" && l.Groups > 1); // the depthwise convs are reported as such
        Assert.Equal(weighted, onnx.Graph.Node.Count(n => n.OpType is "Conv" or "Gemm" && n.Input[1].EndsWith("_routed", StringComparison.Ordinal)));
        Assert.InRange(ExportSamples.MaxAbsDifference(ExportSamples.TorchLogits(model, pixels, 3), session.Run(pixels, 3)), 0, 1e-4);
    }
}
