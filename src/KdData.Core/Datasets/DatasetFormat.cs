namespace KdData.Datasets;

/// <summary>
/// How an import stores its images (<c>Trainer:Import:Format</c>, <c>--format</c>). Either way the manifests' keys name the
/// images, so every reader follows the keys and need not be told the format.
/// </summary>
public enum DatasetFormat
{
    /// <summary>One PNG object per image (<c>train/NNNNN.png</c>): the layout before packed datasets, and the default.</summary>
    Loose,

    /// <summary>
    /// Parquet shards (<c>train/part-00000.parquet</c>) with an <c>image</c> binary column, an <c>index</c> column and,
    /// outside the pool, a <c>label</c> column; an image's key is <c>&lt;shard key&gt;#&lt;row index&gt;</c>.
    /// </summary>
    Parquet,

    /// <summary>
    /// WebDataset tar shards (<c>train/part-00000.tar</c>) of <c>NNNNN.png</c> members plus, outside the pool,
    /// <c>NNNNN.cls</c>; an image's key is <c>&lt;shard key&gt;#NNNNN.png</c>.
    /// </summary>
    Tar,
}
