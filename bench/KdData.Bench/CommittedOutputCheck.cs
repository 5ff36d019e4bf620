using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Bench;

/// <summary>
/// The Labeler's exactly-once invariant, checked on what a run left in its output: the committed manifests
/// (<c>teacher=&lt;id&gt;/_manifests/</c>) and every shard they name, read back with the library's own readers. Every
/// input image must have exactly one committed row per view at its current ETag and no error row (an outage must not
/// turn into <c>unreadable</c> errors); no view or key twice, nothing that is not an input, each shard's rows as its
/// commit says, and no <c>.parquet</c> file that no manifest names (an interrupted commit's leftover).
/// </summary>
internal static class CommittedOutputCheck
{
    public static async Task<InvariantResult> CheckAsync(IObjectStore output, string teacherId, IReadOnlyCollection<ObjectInfo> inputs, int views, CancellationToken cancellationToken = default)
    {
        var folder = $"teacher={teacherId}/";
        var problems = new List<string>();
        var manifests = new List<(string Key, PartitionManifest Manifest)>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var item in output.ListAllAsync(folder, cancellationToken: cancellationToken))
            {
                var relative = item.Key[folder.Length..];
                if (relative.StartsWith("_manifests/", StringComparison.Ordinal))
                {
                    manifests.Add((item.Key, PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key, cancellationToken), item.Key)));
                }
                else if (relative.EndsWith(".parquet", StringComparison.Ordinal))
                {
                    present.Add(relative);
                }
            }
        }
        catch (StoreNotFoundException)
        {
            // Nothing was ever written: every image is missing, reported below.
        }

        if (manifests.Count == 0)
        {
            problems.Add("no manifest");
        }

        var current = inputs.ToDictionary(i => i.Key, i => i.ETag, StringComparer.Ordinal);
        var viewCounts = new Dictionary<(string Key, int View), int>();
        var errorCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        var committed = new HashSet<string>(StringComparer.Ordinal);
        long accepted = 0, rejected = 0, errors = 0;
        var commits = 0;
        void CountView(SoftTargetRow row, string file)
        {
            if (!current.TryGetValue(row.Key, out var etag))
            {
                problems.Add($"{file}: view of '{row.Key}', which is not an input");
            }
            else if (etag != row.ETag)
            {
                problems.Add($"{file}: view of '{row.Key}' at stale ETag {row.ETag}");
            }
            else if (row.View < 0 || row.View >= views)
            {
                problems.Add($"{file}: view {row.View} of '{row.Key}' (the run makes {views})");
            }

            viewCounts[(row.Key, row.View)] = viewCounts.GetValueOrDefault((row.Key, row.View)) + 1;
        }

        // Accepted and rejected shards hold the same rows: read one, check its count and count its views.
        async Task<int> ReadViewsAsync(string file, int expected)
        {
            var rows = await ReadAsync(output, folder + file, SoftTargetShard.OpenReaderAsync, cancellationToken);
            CheckCount(problems, file, expected, rows.Count);
            foreach (var row in rows)
            {
                CountView(row, file);
            }

            return rows.Count;
        }

        foreach (var (key, manifest) in manifests)
        {
            foreach (var commit in manifest.Commits)
            {
                commits++;
                foreach (var file in commit.Files)
                {
                    if (!committed.Add(file))
                    {
                        problems.Add($"{key}: {file} is named by more than one commit");
                    }
                }

                if (commit.Accepted is { } acceptedFile)
                {
                    accepted += await ReadViewsAsync(acceptedFile, commit.AcceptedRows);
                }

                if (commit.Rejected is { } rejectedFile)
                {
                    rejected += await ReadViewsAsync(rejectedFile, commit.RejectedRows);
                }

                if (commit.Errors is { } errorsFile)
                {
                    var rows = await ReadAsync(output, folder + errorsFile, ErrorShard.OpenReaderAsync, cancellationToken);
                    CheckCount(problems, errorsFile, commit.ErrorRows, rows.Count);
                    errors += rows.Count;
                    foreach (var row in rows)
                    {
                        // Every image here is readable: an error row means the run blamed an image for the outage.
                        problems.Add($"{errorsFile}: error row for '{row.Key}' ({row.Stage}/{row.Reason}: {row.Detail})");
                        errorCounts[row.Key] = errorCounts.GetValueOrDefault(row.Key) + 1;
                    }
                }
            }
        }

        foreach (var ((key, view), count) in viewCounts.Where(c => c.Value > 1))
        {
            problems.Add($"'{key}' view {view} committed {count} times");
        }

        foreach (var (key, count) in errorCounts.Where(c => c.Value > 1))
        {
            problems.Add($"'{key}' has {count} error rows");
        }

        foreach (var key in current.Keys)
        {
            var found = Enumerable.Range(0, views).Count(v => viewCounts.ContainsKey((key, v)));
            if (found != views && !errorCounts.ContainsKey(key))
            {
                problems.Add($"'{key}': {found} of {views} views committed");
            }
        }

        foreach (var file in present.Where(f => !committed.Contains(f)).Order(StringComparer.Ordinal))
        {
            problems.Add($"{file} is not named by any manifest (an uncommitted leftover)");
        }

        foreach (var file in committed.Where(f => !present.Contains(f)).Order(StringComparer.Ordinal))
        {
            problems.Add($"{file} is named by a manifest but not present");
        }

        return new InvariantResult
        {
            Images = current.Count,
            Manifests = manifests.Count,
            Commits = commits,
            AcceptedRows = accepted,
            RejectedRows = rejected,
            ErrorRows = errors,
            CommittedFiles = committed.Count,
            PresentFiles = present.Count,
            ProblemCount = problems.Count,
            Problems = [.. problems.Take(InvariantResult.MaxProblems)],
        };
    }

    private static void CheckCount(List<string> problems, string file, int expected, int actual)
    {
        if (expected != actual)
        {
            problems.Add($"{file}: {actual} rows, its commit says {expected}");
        }
    }

    private static async Task<IReadOnlyList<TRow>> ReadAsync<TRow>(
        IObjectStore output, string key, Func<Stream, CancellationToken, Task<ShardReader<TRow>>> open, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(await output.ReadAllBytesAsync(key, cancellationToken), writable: false);
        await using var reader = await open(stream, cancellationToken);
        return await reader.ReadAllAsync(cancellationToken);
    }
}
