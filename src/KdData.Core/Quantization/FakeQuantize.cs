using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Quantization;

/// <summary>
/// Fake quantization for quantization-aware training (Jacob et al. 2018, "Quantization and Training of Neural Networks
/// for Efficient Integer-Arithmetic-Only Inference"): the forward pass computes exactly what the int8 model will
/// (quantize, then dequantize, in float), the backward pass uses the straight-through estimator (Bengio et al. 2013).
/// TorchSharp has no custom autograd functions in Python's style, so the estimator is written with detach:
/// y = c + (q(x) - c).detach() with c = clamp(x, lo, hi). Its value is q(x); its gradient is that of clamp: dy/dx = 1
/// for lo ≤ x ≤ hi and 0 outside (a saturated value cannot move the output).
/// </summary>
public static class FakeQuantize
{
    /// <summary>
    /// uint8 activation: q(x) = (clamp(round(x / s) + z, 0, 255) - z)·s over [lo, hi] = [-z·s, (255 - z)·s], with the
    /// clipped straight-through gradient.
    /// </summary>
    /// <remarks>Every number reaches libtorch as a held Scalar (<see cref="HeldScalars"/>): this runs in every QAT training step.</remarks>
    public static Tensor Activation(Tensor x, QuantizationParameters p)
    {
        ArgumentNullException.ThrowIfNull(x);
        var lo = -p.ZeroPoint * (double)p.Scale;
        var hi = (QuantizationParameters.ActivationMax - p.ZeroPoint) * (double)p.Scale;
        var clipped = HeldScalars.Clamp(x, lo, hi);
        Tensor quantized;
        using (no_grad())
        {
            var codes = HeldScalars.Add(HeldScalars.Div(x, p.Scale).round(), p.ZeroPoint);
            quantized = HeldScalars.Mul(HeldScalars.Sub(HeldScalars.Clamp(codes, 0, QuantizationParameters.ActivationMax), p.ZeroPoint), p.Scale);
        }
        return HeldScalars.Add(clipped, quantized.sub(clipped).detach());
    }

    /// <summary>
    /// int8 weight, symmetric per output channel (axis 0): s_c = max|W_c| / m, q(W) = clamp(round(W / s_c), -m, m)·s_c
    /// with m = <paramref name="codeMax"/> (64 for the default 7-bit weights, 127 for 8-bit:
    /// <see cref="QuantizationParameters.WeightCodeMax"/>). The range covers every weight, so the straight-through
    /// gradient is the identity. Returns the per-channel scales (detached, shape (out)) as well: the bias scale needs them.
    /// </summary>
    public static (Tensor Weight, Tensor Scales) Weight(Tensor w, int codeMax)
    {
        ArgumentNullException.ThrowIfNull(w);
        Tensor quantized;
        Tensor scales;
        using (no_grad())
        {
            var maxAbs = w.detach().abs().reshape(w.shape[0], -1).amax([1]);
            // An all-zero channel gets scale 1 (as QuantizationParameters.WeightScale): its codes are 0 either way.
            scales = where(HeldScalars.Gt(maxAbs, 0), HeldScalars.Div(maxAbs, codeMax), ones_like(maxAbs));
            var view = scales.reshape([w.shape[0], .. Enumerable.Repeat(1L, (int)w.dim() - 1)]);
            quantized = HeldScalars.Clamp(w.div(view).round(), -codeMax, codeMax).mul(view);
        }
        return (HeldScalars.Add(w, quantized.sub(w).detach()), scales);
    }

    /// <summary>int32 bias with scale s_x·s_w,c and zero point 0: q(b) = round(b / (s_x·s_w,c))·s_x·s_w,c; identity gradient.</summary>
    public static Tensor Bias(Tensor b, float inputScale, Tensor weightScales)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(weightScales);
        Tensor quantized;
        using (no_grad())
        {
            var scale = HeldScalars.Mul(weightScales, inputScale);
            quantized = b.div(scale).round().mul(scale);
        }
        return HeldScalars.Add(b, quantized.sub(b).detach());
    }
}
