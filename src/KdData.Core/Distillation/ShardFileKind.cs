namespace KdData.Distillation;

/// <summary>Which of a commit's three files a shard file is: they are parsed differently (error tables carry no soft targets)
/// and rejected rows are marked as such for <see cref="ShardSelectionOptions.IncludeRejected"/>.</summary>
internal enum ShardFileKind
{
    Accepted,
    Rejected,
    Errors,
}
