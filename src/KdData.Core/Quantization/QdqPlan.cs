using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Which tensors of an fp32 ONNX graph get a QuantizeLinear/DequantizeLinear pair, and which of them share another's
/// scale and zero point. Read from the graph alone (so it holds for every family the exporter writes):
/// <list type="bullet">
/// <item>every Conv/Gemm whose weight is an initializer is quantized: its activation input, and its output, taken after
/// the ReLU/Clip that is its only consumer when there is one (ONNX Runtime then drops the ReLU into the int8 Conv:
/// a uint8 code with zero point 0 clamps at 0 by itself); the graph's output (the logits, also through Identity) stays float;</item>
/// <item>the outputs of order-preserving or averaging ops (MaxPool, AveragePool, GlobalAveragePool, ReduceMean, Flatten,
/// Reshape, Squeeze, Unsqueeze, Transpose, Identity) whose input is quantized are quantized with the input's own
/// parameters (their values lie inside its range), so ONNX Runtime can run them on uint8 as well (a MaxPool between
/// equal Q/DQ pairs is dropped into the int8 path);</item>
/// <item>everything else (Add of a residual, ...) stays float between a DequantizeLinear and the next QuantizeLinear.</item>
/// </list>
/// Tensors that share nothing are <see cref="Calibrated"/>: their ranges are measured on calibration images.
/// </summary>
public sealed class QdqPlan
{
    private static readonly HashSet<string> RangePreserving = new(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose", "Identity",
    };

    private QdqPlan(IReadOnlyList<QdqLayer> layers, IReadOnlyList<string> calibrated, IReadOnlyDictionary<string, string> sources)
    {
        Layers = layers;
        Calibrated = calibrated;
        Sources = sources;
    }

    /// <summary>The quantized Conv/Gemm nodes in graph order.</summary>
    public IReadOnlyList<QdqLayer> Layers { get; }

    /// <summary>Activation tensors whose range is measured, in graph order (the input first when it is quantized).</summary>
    public IReadOnlyList<string> Calibrated { get; }

    /// <summary>Every quantized activation tensor and the calibrated tensor whose parameters it uses (itself when calibrated).</summary>
    public IReadOnlyDictionary<string, string> Sources { get; }

    /// <summary>Reads the plan from an fp32 graph.</summary>
    /// <exception cref="InvalidDataException">The graph has no Conv/Gemm with an initializer weight.</exception>
    public static QdqPlan Analyze(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list))
                {
                    consumers[input] = list = [];
                }
                list.Add(node);
            }
        }

        var layers = new List<QdqLayer>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Node)
        {
            if (node.OpType is not ("Conv" or "Gemm") || node.Input.Count < 2 || !initializers.Contains(node.Input[1]))
            {
                continue;
            }
            if (node.OpType == "Gemm" && !IsPlainGemm(node))
            {
                continue;
            }
            var bias = node.Input.Count > 2 && initializers.Contains(node.Input[2]) ? node.Input[2] : string.Empty;
            layers.Add(new QdqLayer(node.Name, node.OpType, node.Input[0], node.Input[1], bias));
            wanted.Add(node.Input[0]);
            var output = node.Output[0];
            if (consumers.TryGetValue(output, out var next) && next.Count == 1 && next[0].OpType is "Relu" or "Clip")
            {
                output = next[0].Output[0];
            }
            if (!ReachesOutputOnly(output, outputs, consumers))
            {
                wanted.Add(output);
            }
        }
        if (layers.Count == 0)
        {
            throw new InvalidDataException("The ONNX graph has no Conv or Gemm with a constant weight; there is nothing to quantize.");
        }

        // Graph order is topological, so one pass sees every producer before its consumers.
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        var calibrated = new List<string>();
        foreach (var input in graph.Input)
        {
            if (wanted.Contains(input.Name))
            {
                sources[input.Name] = input.Name;
                calibrated.Add(input.Name);
            }
        }
        foreach (var node in graph.Node)
        {
            foreach (var output in node.Output)
            {
                if (RangePreserving.Contains(node.OpType) && node.Input.Count > 0 && sources.TryGetValue(node.Input[0], out var source)
                    && !outputs.Contains(output))
                {
                    sources[output] = source;
                }
                else if (wanted.Contains(output))
                {
                    sources[output] = output;
                    calibrated.Add(output);
                }
            }
        }
        return new QdqPlan(layers, calibrated, sources);
    }

    /// <summary>Whether the tensor is a graph output, or only renamed into one by Identity nodes (the exporter's logits).</summary>
    private static bool ReachesOutputOnly(string tensor, HashSet<string> outputs, Dictionary<string, List<NodeProto>> consumers) =>
        outputs.Contains(tensor)
        || (consumers.TryGetValue(tensor, out var next) && next.Count > 0
            && next.All(n => n.OpType == "Identity" && ReachesOutputOnly(n.Output[0], outputs, consumers)));

    private static bool IsPlainGemm(NodeProto node)
    {
        long transA = 0, transB = 0;
        float alpha = 1, beta = 1;
        foreach (var a in node.Attribute)
        {
            switch (a.Name)
            {
                case "transA": transA = a.I; break;
                case "transB": transB = a.I; break;
                case "alpha": alpha = a.F; break;
                case "beta": beta = a.F; break;
            }
        }
        // The (out, in) weight layout with axis 0 = output channel, as the exporter writes it.
        return transA == 0 && transB == 1 && alpha == 1 && beta == 1;
    }
}
