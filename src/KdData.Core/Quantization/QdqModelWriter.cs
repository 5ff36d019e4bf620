using System.Runtime.InteropServices;
using Google.Protobuf;
using KdData.Export;
using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Writes the int8 QDQ model from the fp32 one: for every tensor of the <see cref="QdqPlan"/> a QuantizeLinear (uint8)
/// followed by a DequantizeLinear right after the tensor is produced, every consumer reading the dequantized copy; for
/// every quantized Conv/Gemm its float weight initializer replaced by an int8 one (symmetric, per output channel, axis
/// 0) read through a DequantizeLinear, and its bias by an int32 one with scale s_x·s_w,c. ONNX Runtime's graph
/// optimizer recognises DQ → Conv → Q (and DQ → Gemm) and runs them as integer kernels (QLinearConv, QGemm); the file
/// holds int8 weights, so it is about a quarter of the fp32 size. Needs opset 13 or later (per-axis DequantizeLinear).
/// </summary>
public static class QdqModelWriter
{
    private const string QuantizedSuffix = "_quantized";
    private const string DequantizedSuffix = "_dequantized";

    /// <summary>The int8 model; <paramref name="fp32"/> is not changed.</summary>
    /// <param name="fp32">The fp32 model the plan was read from.</param>
    /// <param name="plan">What to quantize.</param>
    /// <param name="ranges">The range of every tensor in <see cref="QdqPlan.Calibrated"/>.</param>
    /// <exception cref="InvalidDataException">A range is missing, or the opset is below 13.</exception>
    public static ModelProto Quantize(ModelProto fp32, QdqPlan plan, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(ranges);
        var opset = fp32.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain)).Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < 13)
        {
            throw new InvalidDataException($"The ONNX model has opset {opset}; per-channel QDQ needs opset 13 or later.");
        }

        var model = fp32.Clone();
        var graph = model.Graph;
        var parameters = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
        foreach (var tensor in plan.Calibrated)
        {
            if (!ranges.TryGetValue(tensor, out var range))
            {
                throw new InvalidDataException($"No calibrated range for tensor '{tensor}'.");
            }
            parameters[tensor] = QuantizationParameters.ForActivation(range);
        }

        // Scale and zero-point initializers, one pair per calibrated tensor (shared tensors read the same pair).
        var scaleNames = new Dictionary<string, (string Scale, string Zero)>(StringComparer.Ordinal);
        foreach (var (tensor, p) in parameters)
        {
            var scale = Scalar(tensor + "_scale", p.Scale);
            var zero = new TensorProto { Name = tensor + "_zero_point", DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom((byte)p.ZeroPoint) };
            graph.Initializer.Add(scale);
            graph.Initializer.Add(zero);
            scaleNames[tensor] = (scale.Name, zero.Name);
        }

        // Weights and biases of the quantized layers.
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var weightNodes = new List<NodeProto>();
        var replaced = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in plan.Layers)
        {
            var inputParameters = parameters[plan.Sources[layer.Input]];
            var (weightName, weightScales) = QuantizeWeight(graph, initializers[layer.Weight], weightNodes);
            replaced[layer.Weight] = weightName;
            if (layer.Bias.Length > 0)
            {
                replaced[layer.Bias] = QuantizeBias(graph, initializers[layer.Bias], inputParameters.Scale, weightScales, weightNodes);
            }
        }
        var removed = plan.Layers.SelectMany(l => l.Bias.Length > 0 ? new[] { l.Weight, l.Bias } : [l.Weight]).ToHashSet(StringComparer.Ordinal);
        foreach (var name in removed)
        {
            graph.Initializer.Remove(initializers[name]);
        }
        foreach (var input in graph.Input.Where(i => removed.Contains(i.Name)).ToList())
        {
            graph.Input.Remove(input);
        }

        // Rebuild the node list: weight DQs first, Q/DQ after each quantized tensor's producer, consumers rewired.
        var dequantized = plan.Sources.Keys.ToDictionary(t => t, t => t + DequantizedSuffix, StringComparer.Ordinal);
        var nodes = new List<NodeProto>(weightNodes);
        foreach (var input in graph.Input)
        {
            if (plan.Sources.TryGetValue(input.Name, out var source))
            {
                nodes.AddRange(QdqPair(input.Name, scaleNames[source]));
            }
        }
        foreach (var original in graph.Node)
        {
            var node = original.Clone();
            for (var i = 0; i < node.Input.Count; i++)
            {
                if (replaced.TryGetValue(node.Input[i], out var weight))
                {
                    node.Input[i] = weight;
                }
                else if (dequantized.TryGetValue(node.Input[i], out var copy))
                {
                    node.Input[i] = copy;
                }
            }
            nodes.Add(node);
            foreach (var output in node.Output)
            {
                if (plan.Sources.TryGetValue(output, out var source))
                {
                    nodes.AddRange(QdqPair(output, scaleNames[source]));
                }
            }
        }
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        model.DocString = string.IsNullOrEmpty(model.DocString) ? "int8 QDQ" : model.DocString + " (int8 QDQ)";
        return model;
    }

    /// <summary>Per-output-channel symmetric int8 codes of a weight: s_c = max|W_c| / 127, q = clamp(round(W / s_c), -127, 127).</summary>
    public static (sbyte[] Codes, float[] Scales) QuantizeWeightValues(ReadOnlySpan<float> weight, int channels)
    {
        if (channels < 1 || weight.Length % channels != 0)
        {
            throw new ArgumentException($"{weight.Length} weights do not split into {channels} channels.", nameof(channels));
        }
        var perChannel = weight.Length / channels;
        var codes = new sbyte[weight.Length];
        var scales = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var slice = weight.Slice(c * perChannel, perChannel);
            var maxAbs = 0f;
            foreach (var w in slice)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(w));
            }
            var scale = QuantizationParameters.WeightScale(maxAbs);
            scales[c] = scale;
            for (var k = 0; k < perChannel; k++)
            {
                codes[(c * perChannel) + k] = (sbyte)Math.Clamp(Math.Round(slice[k] / scale, MidpointRounding.ToEven), -QuantizationParameters.WeightMax, QuantizationParameters.WeightMax);
            }
        }
        return (codes, scales);
    }

    /// <summary>The float values of an initializer (raw data or float_data).</summary>
    public static float[] FloatValues(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.DataType != (int)TensorProto.Types.DataType.Float)
        {
            throw new InvalidDataException($"Initializer '{tensor.Name}' is not float32.");
        }
        return tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : [.. tensor.FloatData];
    }

    private static (string Name, float[] Scales) QuantizeWeight(GraphProto graph, TensorProto weight, List<NodeProto> nodes)
    {
        var values = FloatValues(weight);
        var channels = (int)weight.Dims[0];
        var (codes, scales) = QuantizeWeightValues(values, channels);
        var quantized = new TensorProto { Name = weight.Name + QuantizedSuffix, DataType = (int)TensorProto.Types.DataType.Int8 };
        quantized.Dims.AddRange(weight.Dims);
        quantized.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(codes.AsSpan()));
        var scale = Vector(weight.Name + "_scale", scales);
        var zero = new TensorProto { Name = weight.Name + "_zero_point", DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(new byte[channels]) };
        zero.Dims.Add(channels);
        graph.Initializer.Add(quantized);
        graph.Initializer.Add(scale);
        graph.Initializer.Add(zero);
        var output = weight.Name + DequantizedSuffix;
        nodes.Add(Dequantize(quantized.Name, scale.Name, zero.Name, output, axis: 0));
        return (output, scales);
    }

    private static string QuantizeBias(GraphProto graph, TensorProto bias, float inputScale, float[] weightScales, List<NodeProto> nodes)
    {
        var values = FloatValues(bias);
        var scales = new float[values.Length];
        var codes = new int[values.Length];
        for (var c = 0; c < values.Length; c++)
        {
            scales[c] = inputScale * weightScales[c];
            codes[c] = (int)Math.Clamp(Math.Round(values[c] / scales[c], MidpointRounding.ToEven), int.MinValue, int.MaxValue);
        }
        var quantized = new TensorProto { Name = bias.Name + QuantizedSuffix, DataType = (int)TensorProto.Types.DataType.Int32 };
        quantized.Dims.Add(values.Length);
        quantized.Int32Data.AddRange(codes);
        var scale = Vector(bias.Name + "_scale", scales);
        var zero = new TensorProto { Name = bias.Name + "_zero_point", DataType = (int)TensorProto.Types.DataType.Int32 };
        zero.Dims.Add(values.Length);
        zero.Int32Data.AddRange(new int[values.Length]);
        graph.Initializer.Add(quantized);
        graph.Initializer.Add(scale);
        graph.Initializer.Add(zero);
        var output = bias.Name + DequantizedSuffix;
        nodes.Add(Dequantize(quantized.Name, scale.Name, zero.Name, output, axis: 0));
        return output;
    }

    private static NodeProto[] QdqPair(string tensor, (string Scale, string Zero) p)
    {
        var quantize = new NodeProto { OpType = "QuantizeLinear", Name = tensor + "_quantize" };
        quantize.Input.AddRange([tensor, p.Scale, p.Zero]);
        quantize.Output.Add(tensor + QuantizedSuffix);
        return [quantize, Dequantize(tensor + QuantizedSuffix, p.Scale, p.Zero, tensor + DequantizedSuffix, axis: null)];
    }

    private static NodeProto Dequantize(string input, string scale, string zero, string output, int? axis)
    {
        var node = new NodeProto { OpType = "DequantizeLinear", Name = output };
        node.Input.AddRange([input, scale, zero]);
        node.Output.Add(output);
        if (axis is { } a)
        {
            node.Attribute.Add(OnnxGraphBuilder.IntAttribute("axis", a));
        }
        return node;
    }

    private static TensorProto Scalar(string name, float value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        return tensor;
    }

    private static TensorProto Vector(string name, float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(values.Length);
        tensor.FloatData.AddRange(values);
        return tensor;
    }
}
