namespace KdData.Datasets;

/// <summary>Split names used in labels manifests.</summary>
public static class DatasetSplits
{
    /// <summary>The labeled training subset.</summary>
    public const string Train = "train";

    /// <summary>The held-out evaluation set (for Fashion-MNIST, the official 10k test set).</summary>
    public const string Test = "test";
}
