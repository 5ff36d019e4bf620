using System.Runtime.CompilerServices;
using KdData.Hosting;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// Downloads the committed shard files of a load, a few at a time and ahead of the parsing, so blob latency hides behind
/// the parsing while memory stays bounded. A file a manifest commits but the store does not have stops the load.
/// </summary>
internal static class ShardFileDownloads
{
    /// <summary>Shard files downloaded and parsed ahead of the one being checked (hides blob latency; bounds memory).</summary>
    private const int FilesInFlight = 4;

    /// <summary>
    /// Downloads files a few ahead (hiding blob latency), yielding their bytes in the given (commit) order. Only the
    /// compressed bytes wait here: parsing happens one row group at a time in <see cref="ShardSetReader"/>, since a
    /// parsed row group holds its rows as objects (~600 bytes each).
    /// </summary>
    public static async IAsyncEnumerable<DownloadedShardFile> DownloadAsync(IReadOnlyList<CommittedShardFile> files, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = new Queue<Task<DownloadedShardFile>>();
        var next = 0;
        try
        {
            while (next < files.Count || pending.Count > 0)
            {
                while (next < files.Count && pending.Count < FilesInFlight)
                {
                    var file = files[next++];
                    pending.Enqueue(Task.Run(() => DownloadFileAsync(file, stop.Token), stop.Token));
                }

                yield return await pending.Dequeue().ConfigureAwait(false);
            }
        }
        finally
        {
            // A failed file (or the consumer stopping) leaves downloads in flight: stop them and let them end.
            await stop.CancelAsync().ConfigureAwait(false);
            await ((Task)Task.WhenAll(pending)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<DownloadedShardFile> DownloadFileAsync(CommittedShardFile file, CancellationToken cancellationToken)
    {
        var set = file.Commit.Set;
        var name = set.Display + file.File;
        try
        {
            return new DownloadedShardFile(file, name, await set.Store.ReadAllBytesAsync(set.Folder + file.File, cancellationToken).ConfigureAwait(false));
        }
        catch (ObjectNotFoundException e)
        {
            throw new InvalidInputException(
                $"Partition manifest '{file.Commit.Manifest}' commits '{name}', which does not exist: the shard set is damaged " +
                "(restore the file, or label again into a new output location).",
                e);
        }
        catch (InvalidObjectKeyException e)
        {
            throw new InvalidInputException($"Partition manifest '{file.Commit.Manifest}' names '{file.File}', which is not a valid shard key: {e.Message}", e);
        }
    }
}
