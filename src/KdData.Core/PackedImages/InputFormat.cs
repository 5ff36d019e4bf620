namespace KdData.PackedImages;

/// <summary>How the Labeler reads the objects under its input location (<c>Labeler:InputFormat</c>).</summary>
public enum InputFormat
{
    /// <summary>By extension, per object: <c>.parquet</c> is an image table, <c>.tar</c> a WebDataset shard, anything else one image. The default.</summary>
    Auto,

    /// <summary>Every object is one image (the layout before packed inputs).</summary>
    Loose,

    /// <summary>Every object is a Parquet table with an image column; anything else is recorded as an error naming the object.</summary>
    Parquet,

    /// <summary>Every object is a tar archive of WebDataset samples; anything else is recorded as an error naming the object.</summary>
    Tar,
}
