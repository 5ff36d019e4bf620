namespace KdData.Storage;

/// <summary>Properties of one stored object.</summary>
/// <param name="Key">Key relative to the store root, '/'-separated.</param>
/// <param name="Size">Length in bytes.</param>
/// <param name="ETag">Opaque version tag; changes whenever the content is replaced. Pass it to <see cref="IObjectStore.ReplaceAsync"/>.</param>
/// <param name="LastModified">Last modification time as reported by the backend.</param>
public sealed record ObjectInfo(string Key, long Size, string ETag, DateTimeOffset LastModified);
