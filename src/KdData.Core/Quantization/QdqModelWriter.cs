using System.Runtime.InteropServices;
using Google.Protobuf;
using KdData.Export;
using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Writes the int8 QDQ model from the fp32 one: for every tensor of the <see cref="QdqPlan"/> a QuantizeLinear (uint8)
/// followed by a DequantizeLinear right after the tensor is produced, every consumer reading the dequantized copy; for
/// every quantized Conv/Gemm its float weight initializer replaced by an int8 one (symmetric, per output channel, axis
/// 0, 7 significant bits by default: see <see cref="QuantizationParameters"/>) read through a DequantizeLinear, and its
/// bias by an int32 one with scale s_x·s_w,c. The weight bits and scheme are written into the model's metadata
/// (<see cref="WeightBitsKey"/>, <see cref="SchemeKey"/>) so whoever measures the file later knows what it holds. ONNX Runtime's graph
/// optimizer recognises DQ → Conv → Q (and DQ → Gemm) and runs them as integer kernels (QLinearConv, QGemm); the file
/// holds int8 weights, so it is about a quarter of the fp32 size. Needs opset 13 or later (per-axis DequantizeLinear).
/// </summary>
public static class QdqModelWriter
{
    private const string QuantizedSuffix = "_quantized";
    private const string DequantizedSuffix = "_dequantized";

    /// <summary>Metadata key of the weight bits (7 or 8) in the written model.</summary>
    public const string WeightBitsKey = "kddata.int8.weight_bits";

    /// <summary>Metadata key of the scheme's description in the written model.</summary>
    public const string SchemeKey = "kddata.int8.scheme";

    /// <summary>The int8 model; <paramref name="fp32"/> is not changed.</summary>
    /// <param name="fp32">The fp32 model the plan was read from.</param>
    /// <param name="plan">What to quantize.</param>
    /// <param name="ranges">The range of every tensor in <see cref="QdqPlan.Calibrated"/>.</param>
    /// <param name="weightBits">7 (default: codes -64..64, right on every CPU) or 8 (codes -127..127: only for CPUs with
    /// VNNI, AMX or ARM dot products; <see cref="PairSaturationCheck"/>).</param>
    /// <exception cref="InvalidDataException">A range is missing, or the opset is below 13.</exception>
    public static ModelProto Quantize(ModelProto fp32, QdqPlan plan, IReadOnlyDictionary<string, ActivationRange> ranges, int weightBits = QuantizationParameters.DefaultWeightBits)
    {
        var codeMax = QuantizationParameters.WeightCodeMax(weightBits);
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
            var (weightName, weightScales) = QuantizeWeight(graph, initializers[layer.Weight], codeMax, weightNodes);
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
        SetMetadata(model, WeightBitsKey, weightBits.ToString(System.Globalization.CultureInfo.InvariantCulture));
        SetMetadata(model, SchemeKey, Describe(weightBits));
        return model;
    }

    /// <summary>The scheme in words, as reports and the model card state it.</summary>
    public static string Describe(int weightBits)
    {
        var codeMax = QuantizationParameters.WeightCodeMax(weightBits);
        return $"QDQ; activations uint8 asymmetric per tensor; weights int8 with {weightBits} bits, symmetric per output channel (axis 0, codes -{codeMax}..{codeMax}); biases int32 (scale s_x*s_w)";
    }

    /// <summary>The weight bits a model written here records (null for a model without the entry, e.g. written elsewhere).</summary>
    public static int? WeightBitsOf(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var entry = model.MetadataProps.FirstOrDefault(p => p.Key == WeightBitsKey);
        return entry is not null && int.TryParse(entry.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits) ? bits : null;
    }

    private static void SetMetadata(ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null)
        {
            model.MetadataProps.Remove(existing);
        }
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    /// <summary>
    /// Per-output-channel symmetric codes of a weight: s_c = max|W_c| / m, q = clamp(round(W / s_c), -m, m), with
    /// m = <paramref name="codeMax"/> (64 for 7-bit weights, 127 for 8-bit: <see cref="QuantizationParameters.WeightCodeMax"/>).
    /// </summary>
    public static (sbyte[] Codes, float[] Scales) QuantizeWeightValues(ReadOnlySpan<float> weight, int channels, int codeMax)
    {
        if (codeMax is < 1 or > QuantizationParameters.WeightMax)
        {
            throw new ArgumentOutOfRangeException(nameof(codeMax), codeMax, "Weight codes reach at most 127.");
        }
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
            var scale = QuantizationParameters.WeightScale(maxAbs, codeMax);
            scales[c] = scale;
            for (var k = 0; k < perChannel; k++)
            {
                codes[(c * perChannel) + k] = (sbyte)Math.Clamp(Math.Round(slice[k] / scale, MidpointRounding.ToEven), -codeMax, codeMax);
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

    private static (string Name, float[] Scales) QuantizeWeight(GraphProto graph, TensorProto weight, int codeMax, List<NodeProto> nodes)
    {
        var values = FloatValues(weight);
        var channels = (int)weight.Dims[0];
        var (codes, scales) = QuantizeWeightValues(values, channels, codeMax);
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
