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
/// <para>
/// The same holds for overloads that take no number at all: TorchSharp's <c>a.add(b)</c>, <c>a + b</c> and
/// <c>t.add(2.0)</c> pass an implicit <c>alpha = 1</c>. <see cref="Add(Tensor, Tensor)"/> passes <see cref="One"/>
/// instead, a Scalar held by this class for the life of the process (immutable, so it can be shared by threads).
/// Overloads taking <see cref="long"/> create integral Scalars, those taking <see cref="double"/> floating ones, as the
/// implicit conversions of <c>int</c> and <c>double</c> did, so results are unchanged.
/// </para>
/// </summary>
internal static class HeldScalars
{
    /// <summary>The integral Scalar 1 (TorchSharp's implicit <c>alpha</c>), alive as long as the process.</summary>
    public static Scalar One { get; } = 1.ToScalar();

    /// <summary><c>a + b</c>, with the held <c>alpha = 1</c>.</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    public static Tensor Add(Tensor tensor, double value) => With(value, s => tensor.add(s, One));

    public static Tensor Add(Tensor tensor, long value) => With(value, s => tensor.add(s, One));

    public static Tensor Sub(Tensor tensor, long value) => With(value, tensor.sub);

    public static Tensor Mul(Tensor tensor, double value) => With(value, tensor.mul);

    public static Tensor Div(Tensor tensor, double value) => With(value, s => tensor.div(s));

    public static Tensor Div(Tensor tensor, long value) => With(value, s => tensor.div(s));

    public static Tensor Pow(Tensor tensor, long exponent) => With(exponent, tensor.pow);

    public static Tensor Remainder(Tensor tensor, long value) => With(value, tensor.remainder);

    public static Tensor MaskedFill(Tensor tensor, Tensor mask, double value) => With(value, s => tensor.masked_fill(mask, s));

    public static Tensor Ge(Tensor tensor, long value) => With(value, tensor.ge);

    public static Tensor Ge(Tensor tensor, double value) => With(value, tensor.ge);

    public static Tensor Gt(Tensor tensor, long value) => With(value, tensor.gt);

    public static Tensor Gt(Tensor tensor, double value) => With(value, tensor.gt);

    public static Tensor Clamp(Tensor tensor, long min, long max) => With(min, low => With(max, high => tensor.clamp(low, high)));

    public static Tensor Clamp(Tensor tensor, double min, double max) => With(min, low => With(max, high => tensor.clamp(low, high)));

    public static Tensor ClampMin(Tensor tensor, long value) => With(value, tensor.clamp_min);

    public static Tensor ClampMin(Tensor tensor, double value) => With(value, tensor.clamp_min);

    /// <summary><paramref name="operation"/> on an integral Scalar of <paramref name="value"/>, disposed after it returns.</summary>
    private static Tensor With(long value, Func<Scalar, Tensor> operation)
    {
        using var scalar = value.ToScalar();
        return operation(scalar);
    }

    /// <summary><paramref name="operation"/> on a floating Scalar of <paramref name="value"/>, disposed after it returns.</summary>
    private static Tensor With(double value, Func<Scalar, Tensor> operation)
    {
        using var scalar = value.ToScalar();
        return operation(scalar);
    }
}
