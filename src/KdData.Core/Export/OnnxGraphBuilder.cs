using Google.Protobuf;
using Onnx;

namespace KdData.Export;

/// <summary>
/// Builds one ONNX graph: named inputs and outputs, initializers (weights) and nodes, then the model around it.
/// The exporter uses it to write a network layer by layer; a later stage (e.g. int8 QDQ quantization) can use the
/// same builder to add QuantizeLinear/DequantizeLinear nodes and their scale/zero-point initializers, and can read
/// back any float initializer it added (<see cref="TryGetFloatInitializer"/>) to compute per-channel scales.
/// Tensor names are unique within the graph: <see cref="UniqueName"/> hands out a fresh one for a hint.
/// Not thread-safe.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>ONNX IR version written (IR 8 goes with opsets 14-18).</summary>
    public const long IrVersion = 8;

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (float[] Values, long[] Dims)> _floatInitializers = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string graphName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>Nodes added so far, in order (ONNX requires a topological order; the builder keeps insertion order).</summary>
    public int NodeCount => _graph.Node.Count;

    /// <summary>
    /// A tensor name based on <paramref name="hint"/> that no input, output, initializer or node output uses yet,
    /// reserved by this call.
    /// </summary>
    public string UniqueName(string hint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hint);
        var name = hint;
        for (var i = 1; !_names.Add(name); i++)
        {
            name = $"{hint}_{i}";
        }
        return name;
    }

    /// <summary>
    /// Declares a float32 graph input. A null entry in <paramref name="dims"/> is a symbolic dimension named by the
    /// matching entry of <paramref name="dimParams"/> (e.g. a dynamic batch axis).
    /// </summary>
    public string AddFloatInput(string name, IReadOnlyList<long?> dims, IReadOnlyList<string?>? dimParams = null)
    {
        Reserve(name);
        _graph.Input.Add(FloatValueInfo(name, dims, dimParams));
        return name;
    }

    /// <summary>Declares a float32 graph output produced by a node already added (or added later).</summary>
    public void AddFloatOutput(string name, IReadOnlyList<long?> dims, IReadOnlyList<string?>? dimParams = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _graph.Output.Add(FloatValueInfo(name, dims, dimParams));
    }

    /// <summary>Adds a float32 initializer (stored as raw little-endian bytes); returns its name.</summary>
    public string AddInitializer(string hint, float[] values, IReadOnlyList<long> dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(dims);
        RequireElementCount(hint, values.Length, dims);
        var name = UniqueName(hint);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        tensor.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(tensor);
        _floatInitializers[name] = ((float[])values.Clone(), [.. dims]);
        return name;
    }

    /// <summary>Adds an int64 initializer (shapes, axes); returns its name.</summary>
    public string AddInitializer(string hint, long[] values, IReadOnlyList<long> dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(dims);
        RequireElementCount(hint, values.Length, dims);
        var name = UniqueName(hint);
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>
    /// Adds an initializer built by the caller (any element type, e.g. int8/uint8 zero points or int32 biases of a
    /// quantized model). Its name must not be in use yet; returns it.
    /// </summary>
    public string AddInitializer(TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Reserve(tensor.Name);
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>The values and dims of a float initializer added through this builder.</summary>
    public bool TryGetFloatInitializer(string name, out float[] values, out long[] dims)
    {
        if (_floatInitializers.TryGetValue(name, out var entry))
        {
            values = entry.Values;
            dims = entry.Dims;
            return true;
        }
        values = [];
        dims = [];
        return false;
    }

    /// <summary>
    /// Adds a node computing <paramref name="opType"/> (default domain) from <paramref name="inputs"/> into one new
    /// output tensor named after <paramref name="outputHint"/>; returns the output's name. An empty input name
    /// stands for an omitted optional input.
    /// </summary>
    public string AddNode(string opType, IReadOnlyList<string> inputs, string outputHint, params AttributeProto[] attributes)
    {
        var output = UniqueName(outputHint);
        AddNode(opType, inputs, [output], output, attributes);
        return output;
    }

    /// <summary>Adds a node with explicit output names (which must be fresh: reserve them with <see cref="UniqueName"/>).</summary>
    public void AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string nodeName, params AttributeProto[] attributes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(attributes);
        var node = new NodeProto { OpType = opType, Name = nodeName ?? string.Empty };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
    }

    /// <summary>The model: this graph with the default-domain opset <paramref name="opset"/>.</summary>
    public ModelProto ToModel(long opset, string producerVersion, string docString)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "kddata",
            ProducerVersion = producerVersion ?? string.Empty,
            DocString = docString ?? string.Empty,
            Graph = _graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = opset });
        return model;
    }

    /// <summary>An int attribute.</summary>
    public static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float attribute.</summary>
    public static AttributeProto FloatAttribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An ints attribute.</summary>
    public static AttributeProto IntsAttribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private void Reserve(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!_names.Add(name))
        {
            throw new ArgumentException($"ONNX tensor name '{name}' is already used in this graph.", nameof(name));
        }
    }

    private static void RequireElementCount(string hint, int count, IReadOnlyList<long> dims)
    {
        long expected = 1;
        foreach (var d in dims)
        {
            expected *= d;
        }
        if (expected != count)
        {
            throw new ArgumentException($"Initializer '{hint}' has {count} values but dims [{string.Join(", ", dims)}] need {expected}.", nameof(dims));
        }
    }

    private static ValueInfoProto FloatValueInfo(string name, IReadOnlyList<long?> dims, IReadOnlyList<string?>? dimParams)
    {
        var shape = new TensorShapeProto();
        for (var i = 0; i < dims.Count; i++)
        {
            var dim = new TensorShapeProto.Types.Dimension();
            if (dims[i] is { } value)
            {
                dim.DimValue = value;
            }
            else
            {
                dim.DimParam = dimParams?[i] ?? $"d{i}";
            }
            shape.Dim.Add(dim);
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape },
            },
        };
    }
}
