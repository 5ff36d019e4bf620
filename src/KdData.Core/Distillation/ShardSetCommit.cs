using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>One commit of a partition manifest in a shard set, with the time it is ordered by.</summary>
/// <param name="Set">The shard set whose manifest lists it.</param>
/// <param name="Manifest">The manifest's name as messages give it (location and key).</param>
/// <param name="Partition">The manifest's partition index (breaks ties between manifests of one set).</param>
/// <param name="Commit">The commit as the manifest records it.</param>
/// <param name="Time">Its <c>committed_at</c>, raised to that of the partition's previous commit, so a clock that stepped back
/// cannot reorder one partition's commits.</param>
internal sealed record ShardSetCommit(ShardSetState Set, string Manifest, int Partition, PartitionCommit Commit, DateTimeOffset Time);
