namespace KdData.Labeling;

/// <summary>What <c>Labeler:PartitionBy</c> hashes to split the input between partitions.</summary>
public enum PartitionUnit
{
    /// <summary>The object key: a loose image, or a whole packed file.</summary>
    File,

    /// <summary>The image key, <c>&lt;object key&gt;#&lt;member&gt;</c> inside packed files (the same as the object key for loose images).</summary>
    Image,
}
