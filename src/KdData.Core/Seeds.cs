namespace KdData;

/// <summary>
/// Seed derivation that depends only on its inputs, never on the runtime's random generator, so
/// splits, shuffles and augmentations replay identically on every machine and .NET version.
/// </summary>
public static class Seeds
{
    /// <summary>SplitMix64's finaliser over (seed, value): a well-spread 64-bit hash.</summary>
    public static ulong Mix(ulong seed, ulong value)
    {
        var z = seed + ((value + 1) * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A permutation of 0..count-1 determined by <paramref name="seed"/>.</summary>
    public static int[] Permutation(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var keys = new ulong[count];
        var order = new int[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = Mix(seed, (ulong)i);
            order[i] = i;
        }

        Array.Sort(keys, order);
        return order;
    }
}
