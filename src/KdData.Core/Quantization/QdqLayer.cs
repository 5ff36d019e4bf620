namespace KdData.Quantization;

/// <summary>A Conv or Gemm (transB = 1) of the fp32 graph that the int8 model computes from int8 weights.</summary>
/// <param name="NodeName">The node's name.</param>
/// <param name="OpType"><c>Conv</c> or <c>Gemm</c>.</param>
/// <param name="Input">Its activation input.</param>
/// <param name="Weight">Its weight initializer; axis 0 is the output channel.</param>
/// <param name="Bias">Its bias initializer, or empty.</param>
public sealed record QdqLayer(string NodeName, string OpType, string Input, string Weight, string Bias);
