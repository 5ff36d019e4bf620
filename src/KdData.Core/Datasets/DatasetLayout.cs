namespace KdData.Datasets;

/// <summary>
/// Where an imported dataset keeps its parts, relative to the dataset's root location:
/// <code>
/// dataset.json        what was imported and how (written last: its presence means "complete")
/// classes.json        class names, index = label
/// manifest.parquet    key, label, split for the labeled train subset and the test set
/// pool-labels.parquet key, label of the unlabeled pool: only for measuring pseudo-label accuracy
/// train/NNNNN.png     labeled training images
/// test/NNNNN.png      test images
/// unlabeled/NNNNN.png the unlabeled pool (images only): point the Labeler here
/// </code>
/// NNNNN is the item's index in the source file, so keys sort in source order.
/// <para>
/// A packed import (<see cref="DatasetFormat.Parquet"/>, <see cref="DatasetFormat.Tar"/>) writes the same three splits
/// as shards under the same prefixes instead, <c>train/part-00000.parquet</c> or <c>unlabeled/part-00000.tar</c>, each
/// holding up to a bounded number of images in source order, and the manifests' keys name one image inside a shard
/// exactly as the Labeler names it: <c>train/part-00000.parquet#17</c> (row 17) or <c>train/part-00000.tar#00123.png</c>
/// (member <c>00123.png</c>). The pool's shards carry no labels (no <c>label</c> column, no <c>.cls</c> members): its
/// labels stay in <c>pool-labels.parquet</c> only.
/// </para>
/// </summary>
public static class DatasetLayout
{
    public const string DescriptorKey = "dataset.json";
    public const string ClassesKey = "classes.json";
    public const string ManifestKey = "manifest.parquet";
    public const string PoolLabelsKey = "pool-labels.parquet";
    public const string TrainPrefix = "train/";
    public const string TestPrefix = "test/";
    public const string UnlabeledPrefix = "unlabeled/";

    /// <summary>The key of shard <paramref name="index"/> of a split: <c>&lt;prefix&gt;part-00000.parquet</c> or <c>.tar</c>.</summary>
    public static string ShardKey(string prefix, int index, DatasetFormat format)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var extension = format switch
        {
            DatasetFormat.Parquet => ".parquet",
            DatasetFormat.Tar => ".tar",
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Only packed formats have shards."),
        };
        return prefix + "part-" + index.ToString("D5", System.Globalization.CultureInfo.InvariantCulture) + extension;
    }
}
