namespace KdData;

/// <summary>
/// A stream of random draws that depends only on its seed (successive <see cref="Seeds.Mix"/> values), never on the
/// runtime's generator, so the augmentations drawn from it replay identically on every machine and .NET version.
/// Not thread-safe: one stream per sample or batch.
/// </summary>
public sealed class SeededDraws(ulong seed)
{
    private ulong _counter;

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (Seeds.Mix(seed, _counter++) >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, <paramref name="count"/>).</summary>
    public int NextInt(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return (int)(NextDouble() * count);
    }

    /// <summary>Standard normal (Box-Muller; one of the pair is used, which keeps the stream's position simple).</summary>
    public double NextNormal()
    {
        var u1 = 1.0 - NextDouble(); // (0, 1]: log stays finite
        var u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>
    /// Gamma(<paramref name="shape"/>, 1): Marsaglia and Tsang 2000, "A Simple Method for Generating Gamma Variables",
    /// with their boost <c>Gamma(a) = Gamma(a + 1) * U^(1/a)</c> for a &lt; 1.
    /// </summary>
    public double NextGamma(double shape)
    {
        if (!(shape > 0) || double.IsInfinity(shape))
        {
            throw new ArgumentOutOfRangeException(nameof(shape), shape, "The gamma shape must be positive and finite.");
        }
        if (shape < 1)
        {
            var boost = Math.Pow(1.0 - NextDouble(), 1.0 / shape);
            return NextGamma(shape + 1) * boost;
        }

        var d = shape - (1.0 / 3.0);
        var c = 1.0 / Math.Sqrt(9.0 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = NextNormal();
                v = 1.0 + (c * x);
            }
            while (v <= 0);
            v = v * v * v;
            var u = 1.0 - NextDouble();
            if (Math.Log(u) < (0.5 * x * x) + d - (d * v) + (d * Math.Log(v)))
            {
                return d * v;
            }
        }
    }

    /// <summary>Beta(a, b) as <c>X / (X + Y)</c> with X ~ Gamma(a), Y ~ Gamma(b).</summary>
    public double NextBeta(double a, double b)
    {
        var x = NextGamma(a);
        var y = NextGamma(b);
        var sum = x + y;
        // Both underflow only for tiny shapes; the limit is a coin flip between 0 and 1.
        return sum > 0 ? x / sum : (NextDouble() < a / (a + b) ? 1.0 : 0.0);
    }
}
