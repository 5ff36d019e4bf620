namespace KdData.Export;

/// <summary>
/// The per-layer hook of <see cref="OnnxExporter"/>: called for every Conv/Gemm before its node is added, with the
/// graph so far. It may add nodes and initializers (e.g. QuantizeLinear/DequantizeLinear around the activation and
/// the weight) and returns the layer with the input names the Conv/Gemm node must read.
/// </summary>
public delegate OnnxWeightedLayer OnnxLayerRewriter(OnnxGraphBuilder graph, OnnxWeightedLayer layer);
