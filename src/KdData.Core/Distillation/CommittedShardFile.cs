namespace KdData.Distillation;

/// <summary>One shard file a commit names, and where its commit stands in the order of all commits read.</summary>
/// <param name="Commit">The commit that names it.</param>
/// <param name="File">Its key relative to the set's teacher folder, as the manifest records it.</param>
/// <param name="Kind">Accepted, rejected or error table.</param>
/// <param name="Rank">Its commit's position in commit order: an image's rows of the highest rank are its latest.</param>
internal sealed record CommittedShardFile(ShardSetCommit Commit, string File, ShardFileKind Kind, int Rank);
