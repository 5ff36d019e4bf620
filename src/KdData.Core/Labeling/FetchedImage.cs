using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>An image's bytes as fetched, or why they could not be; <paramref name="Label"/> is the class a packed input carries.</summary>
internal sealed record FetchedImage(ObjectInfo Info, byte[]? Bytes, ErrorRow? Error, int? Label = null);
