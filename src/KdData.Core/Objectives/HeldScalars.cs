using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Tensor-and-number operations whose <see cref="Scalar"/> is created explicitly and held until libtorch returns.
/// <para>
/// Why not the operators (<c>t / 2.0</c>, <c>a * t</c>, <c>t.ge(0)</c>): they convert the number to a
/// Scalar implicitly, and TorchSharp 0.107 drops its last reference once the native handle is passed on. Scalars are
/// not in dispose scopes and free their native object in a finalizer, so a GC started by another thread during the
/// call (the data loaders allocate all the time) frees it while libtorch reads it: "Expected false to be true" (from
/// <c>Scalar::toLong</c>), "Unknown scalar type". Reproduced by running this file's callers in a loop beside a thread
/// that collects garbage continuously. The <c>using</c> here keeps the Scalar alive until after the call.
/// (<c>where(m, t, 0.0)</c> is safe as it is: there the number becomes a 0-d Tensor, which the dispose scope holds.)
/// </para>
/// </summary>
internal static class HeldScalars
{
    public static Tensor Mul(Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.mul(scalar);
    }

    public static Tensor Div(Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.div(scalar);
    }

    public static Tensor Ge(Tensor tensor, long value)
    {
        using var scalar = value.ToScalar();
        return tensor.ge(scalar);
    }

    public static Tensor Ge(Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.ge(scalar);
    }

    public static Tensor Gt(Tensor tensor, double value)
    {
        using var scalar = value.ToScalar();
        return tensor.gt(scalar);
    }

    public static Tensor ClampMin(Tensor tensor, long value)
    {
        using var scalar = value.ToScalar();
        return tensor.clamp_min(scalar);
    }
}
