namespace KdData.PackedImages;

/// <summary>How packed files are read: column names and the memory bounds that keep one file from filling memory.</summary>
public sealed class PackedReadOptions
{
    /// <summary>
    /// The Parquet column holding the encoded image: plain binary, or the Hugging Face <c>datasets</c> struct of
    /// <c>bytes</c> and <c>path</c>. Default <c>image</c>.
    /// </summary>
    public string ImageColumn { get; set; } = "image";

    /// <summary>The Parquet integer column holding the class index, kept in the shard rows when present; empty for none. Default <c>label</c>.</summary>
    public string LabelColumn { get; set; } = "label";

    /// <summary>
    /// Largest image column chunk of one Parquet row group, in bytes (compressed), that is read. A row group is the
    /// unit Parquet readers hold in memory, so a file written as one huge row group is refused, naming the file, instead
    /// of being loaded whole. Default 256 MiB; DuckDB's <c>ROW_GROUP_SIZE 1000</c> keeps image tables far below it.
    /// </summary>
    public long MaxRowGroupBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Largest member read from a tar archive, in bytes; a larger one is an error row and is skipped unread. Default 64 MiB.</summary>
    public long MaxMemberBytes { get; set; } = 64L * 1024 * 1024;
}
