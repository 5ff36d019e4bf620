using System.Text.Json.Serialization;

namespace KdData.Training;

/// <summary>
/// The index written beside an unpacked shard's data file (<c>&lt;shard&gt;.&lt;etag hash&gt;.index.json</c>): which
/// version of which shard it holds, and its members in order with their lengths (their offsets are the running sum).
/// Written after the data file, so its presence means the unpacking finished.
/// </summary>
internal sealed record UnpackedShardIndex
{
    /// <summary>The shard's key in its store.</summary>
    [JsonPropertyName("shard")]
    public required string Shard { get; init; }

    /// <summary>The shard's ETag when it was unpacked: another version is unpacked anew, never served from this one.</summary>
    [JsonPropertyName("etag")]
    public required string ETag { get; init; }

    /// <summary>Member names in shard order: row indexes (Parquet) or member paths (tar).</summary>
    [JsonPropertyName("names")]
    public required IReadOnlyList<string> Names { get; init; }

    /// <summary>Bytes of each member in the data file; -1 for a member that is no image (a null cell, an oversized member), stored as nothing.</summary>
    [JsonPropertyName("lengths")]
    public required IReadOnlyList<int> Lengths { get; init; }
}
