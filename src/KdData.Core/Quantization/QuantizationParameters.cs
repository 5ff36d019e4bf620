namespace KdData.Quantization;

/// <summary>
/// Scale and zero point of an affine 8-bit code, the ONNX QuantizeLinear / DequantizeLinear convention:
/// q = saturate(round_half_even(x / s) + z), x' = (q - z)·s.
/// <para>
/// Activations are uint8, asymmetric: the range is first widened to hold 0 (so ReLU's zero and zero padding are exact),
/// s = (hi - lo) / 255 and z = clamp(round(-lo / s), 0, 255). Weights are int8, symmetric per output channel, z = 0,
/// with 7 significant bits by default: s_c = max|W_c| / 64, codes in [-64, 64] (ONNX Runtime's "reduce_range"). This is
/// the pairing ONNX Runtime's CPU QDQ kernels are built for (uint8 activations x int8 weights, "U8S8": QLinearConv
/// and the MLAS GEMMs). On x86 without VNNI (AVX2, AVX-512 without VNNI) those kernels add each pair of u8 x s8
/// products into an int16 with saturation (vpmaddubsw): 255·(64 + 64) = 32,640 always fits, while full 8-bit codes
/// (s_c = max|W_c| / 127, codes in [-127, 127], opt-in with 8 weight bits) can reach 255·254 = 64,770 and silently
/// compute wrong results there; VNNI, AMX and ARM accumulate in 32 bits and are right with either
/// (<see cref="PairSaturationCheck"/>).
/// Biases are int32 with s = s_x·s_w,c and z = 0, so the integer accumulator can add them directly.
/// </para>
/// </summary>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint)
{
    /// <summary>Largest weight code of full 8-bit weights (symmetric int8, never -128).</summary>
    public const int WeightMax = 127;

    /// <summary>Largest weight code of 7-bit weights, the default: 255·(64 + 64) fits the int16 pair sum of CPUs without VNNI.</summary>
    public const int ReducedWeightMax = 64;

    /// <summary>Weight bits by default: 7, right on every CPU.</summary>
    public const int DefaultWeightBits = 7;

    /// <summary>The largest weight code of <paramref name="weightBits"/> (7 or 8) significant bits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not 7 or 8.</exception>
    public static int WeightCodeMax(int weightBits) => weightBits switch
    {
        7 => ReducedWeightMax,
        8 => WeightMax,
        _ => throw new ArgumentOutOfRangeException(nameof(weightBits), weightBits, "Weights have 7 or 8 bits."),
    };

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

    /// <summary>
    /// Symmetric scale of a weight channel whose largest magnitude is <paramref name="maxAbs"/>, for codes up to
    /// <paramref name="codeMax"/> (<see cref="WeightCodeMax"/>); 1 for an all-zero channel.
    /// </summary>
    public static float WeightScale(float maxAbs, int codeMax) => maxAbs > 0 && float.IsFinite(maxAbs) ? maxAbs / codeMax : 1f;

    /// <summary>The uint8 code of <paramref name="x"/>.</summary>
    public byte QuantizeActivation(float x) =>
        (byte)Math.Clamp(Math.Round(x / Scale, MidpointRounding.ToEven) + ZeroPoint, 0, ActivationMax);

    /// <summary>The value an activation code stands for.</summary>
    public float Dequantize(int code) => (code - ZeroPoint) * Scale;
}
