using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>An image's bytes as fetched, or why they could not be.</summary>
internal sealed record FetchedImage(ObjectInfo Info, byte[]? Bytes, ErrorRow? Error);
