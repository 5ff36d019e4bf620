namespace KdData.Bench;

/// <summary>The input kinds of <c>packed</c>: the same images as loose blobs, Parquet image tables or WebDataset tar shards.</summary>
internal static class PackedBenchKinds
{
    /// <summary>One PNG blob per image (the Labeler's layout before packed inputs).</summary>
    public const string Loose = "loose";

    /// <summary>Parquet files with an <c>image</c> binary and a <c>label</c> int column.</summary>
    public const string Parquet = "parquet";

    /// <summary>WebDataset tar shards: <c>NNNNN.png</c> + <c>NNNNN.cls</c> per image.</summary>
    public const string Tar = "tar";
}
