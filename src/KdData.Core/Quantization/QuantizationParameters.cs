namespace KdData.Quantization;

/// <summary>
/// Scale and zero point of an affine 8-bit code, the ONNX QuantizeLinear / DequantizeLinear convention:
/// q = saturate(round_half_even(x / s) + z), x' = (q - z)·s.
/// <para>
/// Activations are uint8, asymmetric: the range is first widened to hold 0 (so ReLU's zero and zero padding are exact),
/// s = (hi - lo) / 255 and z = clamp(round(-lo / s), 0, 255). Weights are int8, symmetric per output channel:
/// s_c = max|W_c| / 127, z = 0, codes in [-127, 127] (never -128, so the code is symmetric). This is the pairing ONNX
/// Runtime's CPU QDQ kernels are built for (uint8 activations x int8 weights, "U8S8": QLinearConv and the MLAS
/// GEMMs); on AVX2 without VNNI, U8S8 products can saturate a 16-bit intermediate (vpmaddubsw), which the 127-bound
/// weights make rare; this machine's AVX-512 VNNI accumulates in 32 bits.
/// Biases are int32 with s = s_x·s_w,c and z = 0, so the integer accumulator can add them directly.
/// </para>
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    /// <summary>Largest weight code (symmetric int8).</summary>
    public const int WeightMax = 127;

    /// <summary>Largest activation code (uint8).</summary>
    public const int ActivationMax = 255;

    /// <summary>uint8 asymmetric parameters of an activation range (widened to include 0).</summary>
    public static QuantizationParameters ForActivation(ActivationRange range)
    {
        var lo = Math.Min(range.Min, 0f);
        var hi = Math.Max(range.Max, 0f);
        if (!(hi > lo) || !float.IsFinite(hi - lo))
        {
            return new QuantizationParameters(1f, 0);
        }
        var scale = (hi - lo) / ActivationMax;
        var zero = (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, ActivationMax);
        return new QuantizationParameters(scale, zero);
    }

    /// <summary>Symmetric int8 scale of a weight channel whose largest magnitude is <paramref name="maxAbs"/> (1 for an all-zero channel).</summary>
    public static float WeightScale(float maxAbs) => maxAbs > 0 && float.IsFinite(maxAbs) ? maxAbs / WeightMax : 1f;

    /// <summary>The uint8 code of <paramref name="x"/>.</summary>
    public byte QuantizeActivation(float x) =>
        (byte)Math.Clamp(Math.Round(x / Scale, MidpointRounding.ToEven) + ZeroPoint, 0, ActivationMax);

    /// <summary>The value an activation code stands for.</summary>
    public float Dequantize(int code) => (code - ZeroPoint) * Scale;
}
