using System.Runtime.InteropServices;
using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Checks a QDQ model for the overflow of x86 int8 kernels without VNNI, on any machine. Those kernels
/// (<c>vpmaddubsw</c>, used by ONNX Runtime's U8S8 convolutions and GEMMs on AVX2 and on AVX-512 without VNNI) multiply
/// uint8 activation codes by int8 weight codes and add each <em>pair</em> of products into an int16 with saturation:
/// a·w₁ + a'·w₂ must stay within ±32,767. Activation codes reach 255 (the raw code: zero points are corrected
/// afterwards), and which two weights of a channel share a pair depends on the kernel's packing, so the safe bound
/// is over the two largest magnitudes of every output channel: 255·(|w|₁ + |w|₂) ≤ 32,767. Symmetric 7-bit codes
/// (|w| ≤ 64) always meet it (255·128 = 32,640); full 8-bit codes (±127) almost never do. A model that passes
/// computes the same integers on every CPU; one that fails may be right on a VNNI machine and wrong elsewhere, which
/// only a comparison with a non-saturating CPU can otherwise show.
/// </summary>
public static class PairSaturationCheck
{
    /// <summary>The int16 limit of the pair sum.</summary>
    public const int PairLimit = short.MaxValue;

    /// <summary>Every int8 weight feeding a Conv or Gemm through a DequantizeLinear, with its worst pair.</summary>
    /// <exception cref="InvalidDataException">A weight initializer holds fewer codes than its shape says.</exception>
    public static PairSaturationReport Analyze(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var weightInputs = graph.Node.Where(n => n.OpType is "Conv" or "Gemm" && n.Input.Count > 1).Select(n => n.Input[1]).ToHashSet(StringComparer.Ordinal);
        var layers = new List<PairSaturationLayer>();
        foreach (var node in graph.Node)
        {
            if (node.OpType != "DequantizeLinear" || !weightInputs.Contains(node.Output[0])
                || !initializers.TryGetValue(node.Input[0], out var codes) || codes.DataType != (int)TensorProto.Types.DataType.Int8)
            {
                continue;
            }
            layers.Add(Worst(codes));
        }
        return new PairSaturationReport(layers);
    }

    /// <summary>The worst pair of one int8 weight tensor (axis 0 = output channel).</summary>
    public static PairSaturationLayer Worst(TensorProto codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var values = codes.RawData.Length > 0
            ? MemoryMarshal.Cast<byte, sbyte>(codes.RawData.Span).ToArray()
            : [.. codes.Int32Data.Select(v => (sbyte)v)];
        var channels = codes.Dims.Count > 0 ? (int)codes.Dims[0] : 1;
        var expected = codes.Dims.Aggregate(1L, (a, d) => a * d);
        if (values.Length != expected || channels < 1)
        {
            throw new InvalidDataException($"Weight '{codes.Name}' holds {values.Length} codes, its shape [{string.Join(", ", codes.Dims)}] says {expected}.");
        }
        var perChannel = values.Length / channels;
        var worst = (Sum: -1, Channel: 0);
        for (var c = 0; c < channels; c++)
        {
            int first = 0, second = 0;
            foreach (var v in values.AsSpan(c * perChannel, perChannel))
            {
                var m = Math.Abs((int)v);
                if (m > first)
                {
                    second = first;
                    first = m;
                }
                else if (m > second)
                {
                    second = m;
                }
            }
            if (first + second > worst.Sum)
            {
                worst = (first + second, c);
            }
        }
        var pair = QuantizationParameters.ActivationMax * Math.Max(worst.Sum, 0);
        return new PairSaturationLayer(codes.Name, worst.Channel, pair);
    }
}
