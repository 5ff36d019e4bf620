namespace KdData.Distillation;

/// <summary>A committed shard file's bytes, downloaded and not yet parsed.</summary>
/// <param name="Ref">Which file it is.</param>
/// <param name="Name">Its full name (set location and key), as messages give it.</param>
/// <param name="Bytes">Its content (Parquet).</param>
internal sealed record DownloadedShardFile(CommittedShardFile Ref, string Name, byte[] Bytes);
