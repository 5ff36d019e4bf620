using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace KdData.Export;

/// <summary>
/// Exports a zoo network (convnet, wrn, resnet*, mobilenet_v2, avgpool_linear) to an ONNX model: opset
/// <see cref="OnnxExportOptions.DefaultOpset"/>, one float32 input (batch, C, H, W) and one float32 output
/// (batch, classes), both with a dynamic batch axis; BatchNorm folded into the preceding convolution. The graph is
/// written from the module tree (see <see cref="OnnxGraphTracer"/>); the model's weights are read, never changed.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Builds the ONNX model of <paramref name="model"/> (its eval-mode computation).</summary>
    /// <exception cref="UnsupportedLayerException">A module has no ONNX translation; names its path and type.</exception>
    public static ModelProto Export(nn.Module<Tensor, Tensor> model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var graph = new OnnxGraphBuilder("kddata");
        var input = graph.AddFloatInput(options.InputName, [null, options.Channels, options.Height, options.Width],
            [options.BatchAxisName, null, null, null]);
        var output = graph.UniqueName(options.OutputName);
        var logits = new OnnxGraphTracer(graph, options).Emit(model, string.Empty, input);
        // The last node's output carries the generated name; an Identity gives it the agreed output name.
        graph.AddNode("Identity", [logits], [output], output);
        graph.AddFloatOutput(output, [null, options.NumClasses], [options.BatchAxisName, null]);
        var version = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0";
        return graph.ToModel(OnnxExportOptions.DefaultOpset, version, options.DocString);
    }

    /// <summary>The model's protobuf encoding (what an <c>.onnx</c> file holds).</summary>
    public static byte[] ToBytes(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.ToByteArray();
    }
}
