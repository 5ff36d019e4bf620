using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Tests.Labeler;

/// <summary>
/// What a teacher's folder holds as committed: the manifests and the rows of every shard they name,
/// read back with our own readers; plus the shard files actually present (committed or not).
/// </summary>
internal sealed class CommittedLabels
{
    private CommittedLabels(string teacherFolder)
    {
        TeacherFolder = teacherFolder;
    }

    public string TeacherFolder { get; }

    public List<(string Key, PartitionManifest Manifest)> Manifests { get; } = [];

    public List<SoftTargetRow> Accepted { get; } = [];

    public List<SoftTargetRow> Rejected { get; } = [];

    public List<ErrorRow> Errors { get; } = [];

    /// <summary>Shard files (relative to the teacher folder) that the manifests name.</summary>
    public List<string> CommittedFiles { get; } = [];

    /// <summary>Every <c>.parquet</c> object under the teacher folder (relative to it).</summary>
    public List<string> PresentFiles { get; } = [];

    /// <summary>Footer metadata of each committed file.</summary>
    public Dictionary<string, IReadOnlyDictionary<string, string>> Metadata { get; } = new(StringComparer.Ordinal);

    public IEnumerable<SoftTargetRow> Views => Accepted.Concat(Rejected);

    /// <summary>The distinct keys each partition's manifest committed (views or errors).</summary>
    public Dictionary<int, HashSet<string>> KeysByPartition { get; } = [];

    public static async Task<CommittedLabels> ReadAsync(IObjectStore output, string teacherId)
    {
        var labels = new CommittedLabels($"teacher={teacherId}/");
        await foreach (var item in output.ListAllAsync(labels.TeacherFolder))
        {
            var relative = item.Key[labels.TeacherFolder.Length..];
            if (relative.StartsWith("_manifests/", StringComparison.Ordinal))
            {
                labels.Manifests.Add((item.Key, PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key), item.Key)));
            }
            else if (relative.EndsWith(".parquet", StringComparison.Ordinal))
            {
                labels.PresentFiles.Add(relative);
            }
        }

        foreach (var (key, manifest) in labels.Manifests)
        {
            var partitionKeys = labels.KeysByPartition.TryGetValue(manifest.Partition, out var set) ? set : labels.KeysByPartition[manifest.Partition] = new(StringComparer.Ordinal);
            var (accepted, rejected, errors) = (labels.Accepted.Count, labels.Rejected.Count, labels.Errors.Count);
            foreach (var commit in manifest.Commits)
            {
                if (commit.Accepted is { } acceptedFile)
                {
                    var rows = await labels.ReadAsync(output, acceptedFile, SoftTargetShard.OpenReaderAsync);
                    Assert.Equal(commit.AcceptedRows, rows.Count);
                    labels.Accepted.AddRange(rows);
                }

                if (commit.Rejected is { } rejectedFile)
                {
                    var rows = await labels.ReadAsync(output, rejectedFile, SoftTargetShard.OpenReaderAsync);
                    Assert.Equal(commit.RejectedRows, rows.Count);
                    labels.Rejected.AddRange(rows);
                }

                if (commit.Errors is { } errorsFile)
                {
                    var rows = await labels.ReadAsync(output, errorsFile, ErrorShard.OpenReaderAsync);
                    Assert.Equal(commit.ErrorRows, rows.Count);
                    labels.Errors.AddRange(rows);
                }

                Assert.True(commit.Files.Any(), $"commit {commit.Sequence} of {key} names no file");
            }

            partitionKeys.UnionWith(labels.Accepted.Skip(accepted).Concat(labels.Rejected.Skip(rejected)).Select(r => r.Key));
            partitionKeys.UnionWith(labels.Errors.Skip(errors).Select(r => r.Key));
        }

        return labels;
    }

    /// <summary>
    /// The exactly-once invariant over <paramref name="inputs"/> (the current listing): every image is either
    /// one error row and no view, or exactly one row per view in accepted or rejected; nothing else is committed,
    /// and (after a completed run) no shard file exists that no manifest names.
    /// </summary>
    public void AssertExactlyOnce(IReadOnlyCollection<ObjectInfo> inputs, int views, bool allowStaleETags = false)
    {
        var current = inputs.ToDictionary(i => i.Key, i => i.ETag, StringComparer.Ordinal);
        bool IsCurrent(string key, string etag) => current.TryGetValue(key, out var e) && e == etag;

        foreach (var row in Views)
        {
            Assert.True(current.ContainsKey(row.Key), $"committed view of '{row.Key}' which is not an input");
            Assert.True(allowStaleETags || IsCurrent(row.Key, row.ETag), $"committed view of '{row.Key}' at stale ETag {row.ETag}");
        }

        foreach (var row in Errors)
        {
            Assert.True(current.ContainsKey(row.Key), $"committed error of '{row.Key}' which is not an input");
            Assert.True(allowStaleETags || IsCurrent(row.Key, row.ETag), $"committed error of '{row.Key}' at stale ETag {row.ETag}");
        }

        var viewCounts = Views.Where(r => IsCurrent(r.Key, r.ETag)).GroupBy(r => (r.Key, r.View)).ToDictionary(g => g.Key, g => g.Count());
        var errorCounts = Errors.Where(r => IsCurrent(r.Key, r.ETag)).GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var duplicates = viewCounts.Where(c => c.Value > 1).Select(c => $"{c.Key.Key}#{c.Key.View} x{c.Value}")
            .Concat(errorCounts.Where(c => c.Value > 1).Select(c => $"{c.Key} (error) x{c.Value}")).ToList();
        Assert.True(duplicates.Count == 0, "committed more than once: " + string.Join(", ", duplicates.Take(20)));

        var problems = new List<string>();
        foreach (var key in current.Keys)
        {
            var present = Enumerable.Range(0, views).Count(v => viewCounts.ContainsKey((key, v)));
            if (errorCounts.ContainsKey(key))
            {
                if (present > 0)
                {
                    problems.Add($"{key}: both an error and {present} views");
                }
            }
            else if (present != views)
            {
                problems.Add($"{key}: {present} of {views} views");
            }
        }

        Assert.True(problems.Count == 0, $"{problems.Count} of {current.Count} inputs not exactly once: " + string.Join("; ", problems.Take(20)));
        Assert.DoesNotContain(Views, r => r.View >= views);
    }

    /// <summary>No shard file is left that no manifest names (a completed run deletes a killed run's leftovers).</summary>
    public void AssertNoUncommittedFiles() =>
        Assert.Equal(CommittedFiles.Order(StringComparer.Ordinal), PresentFiles.Order(StringComparer.Ordinal));

    /// <summary>Downloads every committed file to <paramref name="directory"/> (same relative paths); returns the local paths by relative name.</summary>
    public async Task<Dictionary<string, string>> DownloadAsync(IObjectStore output, string directory)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in CommittedFiles)
        {
            var path = Path.Combine(directory, file.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, await output.ReadAllBytesAsync(TeacherFolder + file));
            paths[file] = path;
        }

        return paths;
    }

    private async Task<IReadOnlyList<TRow>> ReadAsync<TRow>(IObjectStore output, string file, Func<Stream, CancellationToken, Task<ShardReader<TRow>>> open)
    {
        CommittedFiles.Add(file);
        using var stream = new MemoryStream(await output.ReadAllBytesAsync(TeacherFolder + file), writable: false);
        await using var reader = await open(stream, CancellationToken.None);
        Metadata[file] = reader.Metadata;
        return await reader.ReadAllAsync();
    }
}
