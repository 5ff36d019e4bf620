namespace KdData.Storage;

/// <summary>One page of a listing.</summary>
/// <param name="Items">Objects of this page in ordinal key order.</param>
/// <param name="ContinuationToken">Opaque token for the next page, or null when the listing is complete.</param>
public sealed record ObjectPage(IReadOnlyList<ObjectInfo> Items, string? ContinuationToken);
