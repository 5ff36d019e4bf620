namespace KdData.Export;

/// <summary>
/// A Conv or Gemm about to be written, as its inputs are named in the graph: the activation <see cref="Input"/>,
/// the float <see cref="Weight"/> initializer (after BatchNorm folding) and the optional <see cref="Bias"/>
/// initializer (empty when none). Passed to <see cref="OnnxLayerRewriter"/>, which may return it with other names,
/// e.g. the outputs of DequantizeLinear nodes it inserted for a QDQ int8 model.
/// </summary>
/// <param name="ModulePath">The module's path in the network (state-dict prefix, e.g. <c>features.0.0</c>).</param>
/// <param name="OpType"><c>Conv</c> or <c>Gemm</c> (with <c>transB = 1</c>: the weight is (out, in) as in PyTorch).</param>
/// <param name="Input">The activation tensor the layer reads.</param>
/// <param name="Weight">The weight initializer: (out, in / groups, kh, kw) for Conv, (out, in) for Gemm.</param>
/// <param name="Bias">The bias initializer (out), or empty when the layer has none.</param>
/// <param name="Groups">Conv groups (1 for Gemm); depthwise convs have groups = channels.</param>
public sealed record OnnxWeightedLayer(string ModulePath, string OpType, string Input, string Weight, string Bias, long Groups);
