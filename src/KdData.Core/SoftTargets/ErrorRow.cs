namespace KdData.SoftTargets;

/// <summary>One row of an error table: a source object (or one view of it) that could not be labelled.</summary>
/// <param name="Key">Storage key of the source image.</param>
/// <param name="ETag">ETag of the source object as listed.</param>
/// <param name="Size">Size of the source object in bytes as listed.</param>
/// <param name="Stage">Pipeline stage that failed, e.g. <c>fetch</c>, <c>decode</c>, <c>infer</c>.</param>
/// <param name="Reason">Short machine-readable code, e.g. <c>not-found</c>, <c>truncated</c>.</param>
/// <param name="Detail">Human-readable message (typically the exception message).</param>
/// <param name="View">The view that failed, or null when the whole object failed.</param>
public sealed record ErrorRow(string Key, string ETag, long Size, string Stage, string Reason, string Detail, int? View);
