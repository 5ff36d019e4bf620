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
}
