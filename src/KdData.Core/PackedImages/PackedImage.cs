namespace KdData.PackedImages;

/// <summary>One image to pack into a shard by <see cref="ParquetImageTableWriter"/> or <see cref="TarImageArchiveWriter"/>.</summary>
/// <param name="SourceIndex">
/// The image's index in its source (an IDX file's item number): the Parquet <c>index</c> column, and the tar sample key
/// (<c>NNNNN</c>, as the loose layout's file name), so a packed image can be traced back as a loose one can.
/// </param>
/// <param name="Bytes">The encoded image (PNG).</param>
/// <param name="Label">The class index; written only into shards that carry labels.</param>
public sealed record PackedImage(int SourceIndex, byte[] Bytes, int Label);
