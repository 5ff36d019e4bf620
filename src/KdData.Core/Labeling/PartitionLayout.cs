using System.Globalization;

namespace KdData.Labeling;

/// <summary>
/// Where one partition's files live under the output location, for one teacher: the shard files
/// (<c>[rejected/|errors/]part-IIIIofNNNN-SSSSSS.parquet</c>), the manifest (the commit log), the lease and run summaries.
/// </summary>
internal sealed record PartitionLayout(string TeacherFolder, int Partition, int Count)
{
    /// <summary>The sub-folders shard files go to: accepted (the folder itself), rejected, errors.</summary>
    public static readonly string[] ShardFolders = [string.Empty, "rejected/", "errors/"];

    /// <summary><c>IIIIofNNNN</c>, in every file name of the partition.</summary>
    public string Tag => string.Create(CultureInfo.InvariantCulture, $"{Partition:D4}of{Count:D4}");

    public string ManifestKey => $"{TeacherFolder}_manifests/partition-{Tag}.json";

    /// <summary>Every partition's manifest is under this prefix.</summary>
    public string ManifestsPrefix => $"{TeacherFolder}_manifests/";

    public string LeaseKey => $"{TeacherFolder}_leases/partition-{Tag}";

    /// <summary>The prefix of this partition's shard files in one of <see cref="ShardFolders"/>.</summary>
    public string ShardPrefix(string folder) => $"{TeacherFolder}{folder}part-{Tag}-";

    /// <summary>A run summary's key: unique to the run (a fresh GUID), sorted by start time.</summary>
    public string SummaryKey(DateTimeOffset startedAt) =>
        string.Create(CultureInfo.InvariantCulture, $"{TeacherFolder}_runs/{startedAt:yyyyMMdd'T'HHmmss'Z'}-{Tag}-{Guid.NewGuid():N}.json");
}
