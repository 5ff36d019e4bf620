using KdData.SoftTargets;
using KdData.Storage;
using Microsoft.Extensions.Logging;

namespace KdData.Labeling;

/// <summary>
/// What a partition has committed, recovered at start (under the lease): its manifest and the manifest's ETag (the
/// commit log the next commit replaces), after deleting the partition's shard files no manifest lists (a killed
/// run's leftovers, never visible), and the done-set: every (key, ETag) committed by any partition of this teacher,
/// which the run skips.
/// </summary>
internal sealed class CommittedState
{
    private CommittedState(PartitionManifest manifest, string? manifestETag, HashSet<(string Key, string ETag)> done)
    {
        Manifest = manifest;
        ManifestETag = manifestETag;
        Done = done;
    }

    public PartitionManifest Manifest { get; }

    /// <summary>Null when the partition has no manifest yet (the first commit creates it).</summary>
    public string? ManifestETag { get; }

    /// <summary>Images already labeled at the same ETag; images whose last attempt was <see cref="LabelingRun.UnreadableReason"/> are not in it.</summary>
    public HashSet<(string Key, string ETag)> Done { get; }

    public static async Task<CommittedState> RecoverAsync(IObjectStore output, PartitionLayout layout, string teacherId, ILogger logger, CancellationToken cancellationToken = default)
    {
        var (manifest, etag) = await ReadManifestAsync(output, layout, teacherId, cancellationToken).ConfigureAwait(false);
        await DeleteUncommittedFilesAsync(output, layout, manifest, logger, cancellationToken).ConfigureAwait(false);
        var done = await LoadDoneSetAsync(output, layout, cancellationToken).ConfigureAwait(false);
        return new CommittedState(manifest, etag, done);
    }

    private static async Task<(PartitionManifest Manifest, string? ETag)> ReadManifestAsync(IObjectStore output, PartitionLayout layout, string teacherId, CancellationToken cancellationToken)
    {
        var key = layout.ManifestKey;
        try
        {
            var info = await output.GetPropertiesAsync(key, cancellationToken).ConfigureAwait(false);
            var bytes = await output.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
            var manifest = PartitionManifest.Parse(bytes, key);
            // The ETag read with the properties may be older than the bytes; a replace with it fails safely.
            return (manifest, info.ETag);
        }
        catch (ObjectNotFoundException)
        {
            return (new PartitionManifest { Teacher = teacherId, Partition = layout.Partition, PartitionCount = layout.Count }, null);
        }
    }

    private static async Task DeleteUncommittedFilesAsync(IObjectStore output, PartitionLayout layout, PartitionManifest manifest, ILogger logger, CancellationToken cancellationToken)
    {
        var committed = manifest.Commits.SelectMany(c => c.Files).ToHashSet(StringComparer.Ordinal);
        foreach (var folder in PartitionLayout.ShardFolders)
        {
            var orphans = new List<string>();
            await foreach (var item in output.ListAllAsync(layout.ShardPrefix(folder), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (!committed.Contains(item.Key[layout.TeacherFolder.Length..]))
                {
                    orphans.Add(item.Key);
                }
            }

            foreach (var key in orphans)
            {
                // Written by a run that was killed before its commit: never visible, safe to drop (we hold the lease).
                logger.LogInformation("Deleting uncommitted shard {Key} left by an interrupted run", key);
                await output.DeleteAsync(key, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<HashSet<(string Key, string ETag)>> LoadDoneSetAsync(IObjectStore output, PartitionLayout layout, CancellationToken cancellationToken)
    {
        // Every partition's commits count: a key labeled under another partition count is not labeled again.
        var done = new HashSet<(string, string)>();
        await foreach (var item in output.ListAllAsync(layout.ManifestsPrefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            var manifest = PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key, cancellationToken).ConfigureAwait(false), item.Key);
            foreach (var commit in manifest.Commits)
            {
                foreach (var file in new[] { commit.Accepted, commit.Rejected }.OfType<string>())
                {
                    await foreach (var row in ReadRowsAsync<SoftTargetRow>(output, layout.TeacherFolder + file, SoftTargetShard.OpenReaderAsync, cancellationToken).ConfigureAwait(false))
                    {
                        done.Add((row.Key, row.ETag));
                    }
                }

                if (commit.Errors is { } errors)
                {
                    await foreach (var row in ReadRowsAsync<ErrorRow>(output, layout.TeacherFolder + errors, ErrorShard.OpenReaderAsync, cancellationToken).ConfigureAwait(false))
                    {
                        // A storage failure says nothing about the image: try it again next run (its new
                        // row then supersedes this error; see docs/labeler.md "Exactly once").
                        if (row.Reason != LabelingRun.UnreadableReason)
                        {
                            done.Add((row.Key, row.ETag));
                        }
                    }
                }
            }
        }

        return done;
    }

    private static async IAsyncEnumerable<TRow> ReadRowsAsync<TRow>(
        IObjectStore output,
        string key,
        Func<Stream, CancellationToken, Task<ShardReader<TRow>>> open,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(await output.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false), writable: false);
        var reader = await open(stream, cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await foreach (var row in reader.ReadRowsAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return row;
            }
        }
    }
}
