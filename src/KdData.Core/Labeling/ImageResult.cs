using KdData.SoftTargets;
namespace KdData.Labeling;

/// <summary>Everything the Labeler learned about one image: a soft target per view, or the error that stopped it.</summary>
internal sealed record ImageResult(Storage.ObjectInfo Info, SoftTargetRow[] Views, ErrorRow? Error);
