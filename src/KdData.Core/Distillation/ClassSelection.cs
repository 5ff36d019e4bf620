namespace KdData.Distillation;

/// <summary>
/// What each load-time rule did to one class's rows (the class is the teacher's arg-max). Of the rows
/// of the latest commits, <c>Accepted + IncludedRejected = BelowThreshold + OverCap + Kept</c>.
/// </summary>
/// <param name="Class">Class name.</param>
/// <param name="Accepted">Rows of committed accepted shards that are their image's latest labeling.</param>
/// <param name="Rejected">Rows of committed rejected shards that are their image's latest labeling (whether included or not).</param>
/// <param name="IncludedRejected">Of <paramref name="Rejected"/>, those taken in (<see cref="ShardSelectionOptions.IncludeRejected"/>).</param>
/// <param name="Superseded">Committed rows (accepted or rejected) dropped because a later commit labeled the same image again.</param>
/// <param name="BelowThreshold">Dropped by <see cref="ShardSelectionOptions.MinConfidence"/> or the class's threshold.</param>
/// <param name="OverCap">Dropped by the class's cap (the least confident ones).</param>
/// <param name="Threshold">The confidence threshold applied to the class.</param>
/// <param name="Cap">The cap applied to the class; null when uncapped.</param>
/// <param name="Kept">Rows selected for training.</param>
public sealed record ClassSelection(
    string Class,
    int Accepted,
    int Rejected,
    int IncludedRejected,
    int Superseded,
    int BelowThreshold,
    int OverCap,
    double Threshold,
    int? Cap,
    int Kept);
