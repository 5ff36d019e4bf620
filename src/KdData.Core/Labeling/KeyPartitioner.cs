using System.Text;

namespace KdData.Labeling;

/// <summary>
/// Assigns keys to partitions by a stable hash (FNV-1a 64 of the key's UTF-8 bytes), so every
/// replica agrees without talking to the others, on any machine and .NET version.
/// </summary>
public static class KeyPartitioner
{
    /// <summary>The partition of <paramref name="key"/> among <paramref name="count"/>.</summary>
    public static int PartitionOf(string key, int count)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count == 1)
        {
            return 0;
        }

        Span<byte> buffer = key.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, buffer);
        var hash = 14695981039346656037UL;
        foreach (var b in buffer[..length])
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return (int)(hash % (ulong)count);
    }
}
