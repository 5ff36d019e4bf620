namespace KdData.Datasets;

/// <summary>
/// An unsigned-byte IDX array (the MNIST file format): its dimensions and its data in row-major
/// order. MNIST-style image files are <c>[count, rows, cols]</c>; label files are <c>[count]</c>.
/// </summary>
public sealed class IdxArray
{
    internal IdxArray(int[] dimensions, byte[] data)
    {
        Dimensions = dimensions;
        Data = data;
    }

    /// <summary>Sizes of each dimension, outermost first.</summary>
    public IReadOnlyList<int> Dimensions { get; }

    /// <summary>All values, row-major.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>Number of items along the first dimension.</summary>
    public int Count => Dimensions[0];

    /// <summary>Bytes per item (product of the inner dimensions; 1 for a label file).</summary>
    public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);

    /// <summary>The bytes of item <paramref name="index"/>.</summary>
    public ReadOnlyMemory<byte> Item(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Data.Slice(index * ItemSize, ItemSize);
    }
}
