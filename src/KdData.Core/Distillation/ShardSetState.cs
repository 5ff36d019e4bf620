using System.Text.Json;
using KdData.Hosting;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// One shard set (a location of <see cref="ShardSelectionOptions.Locations"/>) being read: its teacher folder, the commits its
/// partition manifests list, and what its shard footers said. <see cref="OpenAsync"/> finds the folder and reads the manifests;
/// the footers are recorded as the shards are parsed, and <see cref="ToInfo"/> sums it all up for the checkpoint record.
/// </summary>
internal sealed class ShardSetState(int index, IObjectStore store, string root, string folder)
{
    /// <summary>The set's position in <see cref="ShardSelectionOptions.EffectiveLocations"/> (breaks ties between sets' commits).</summary>
    public int Index { get; } = index;

    public IObjectStore Store { get; } = store;

    /// <summary>Prefix of the teacher folder inside <see cref="Store"/>: empty or <c>teacher=&lt;id&gt;/</c>.</summary>
    public string Folder { get; } = folder;

    /// <summary>The teacher folder as a location string; file names in messages start with it.</summary>
    public string Display { get; } = root + folder;

    public List<ShardSetCommit> Commits { get; } = [];

    public int Manifests { get; set; }

    public int Files { get; set; }

    public long Rows { get; set; }

    /// <summary>The first footer read: the set's teacher, which every other shard of the set must match.</summary>
    public ShardFooter? Footer { get; private set; }

    public int TopK { get; private set; }

    public int ViewsPerImage { get; private set; }

    /// <summary>
    /// Finds the teacher folder in <paramref name="store"/> (the root itself when it holds <c>_manifests/</c>, else its one
    /// <c>teacher=&lt;id&gt;/</c> folder) and reads every partition manifest there into <see cref="Commits"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">No committed shards, several teachers' folders, or a manifest that is not one.</exception>
    public static async Task<ShardSetState> OpenAsync(IObjectStore store, string root, int index, CancellationToken cancellationToken)
    {
        string folder;
        if (await AnyAsync(store, "_manifests/", cancellationToken).ConfigureAwait(false))
        {
            folder = string.Empty;
        }
        else
        {
            var teachers = new SortedSet<string>(StringComparer.Ordinal);
            await foreach (var item in store.ListAllAsync("teacher=", cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var slash = item.Key.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0 && item.Key.AsSpan(slash + 1).StartsWith("_manifests/", StringComparison.Ordinal))
                {
                    teachers.Add(item.Key[..(slash + 1)]);
                }
            }

            if (teachers.Count == 0)
            {
                throw new InvalidInputException(
                    $"No committed soft-target shards at '{root}' (neither a _manifests/ folder nor a teacher=<id>/ folder holding one). " +
                    $"Label the unlabeled images first: {ShardSetReader.LabelerCommand} (it writes to {ShardSelectionOptions.DefaultLocation}), or set {ShardSelectionOptions.SectionName}:Locations.");
            }

            if (teachers.Count > 1)
            {
                throw new InvalidInputException(
                    $"'{root}' holds the shards of {teachers.Count} teachers ({string.Join(", ", teachers)}); name the one to distil from, " +
                    $"e.g. {ShardSelectionOptions.SectionName}:Locations:0={root}{teachers.Min}");
            }

            folder = teachers.Min!;
        }

        var set = new ShardSetState(index, store, root, folder);
        var manifestKeys = new List<string>();
        await foreach (var item in store.ListAllAsync(folder + "_manifests/", cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                manifestKeys.Add(item.Key);
            }
        }

        foreach (var key in manifestKeys)
        {
            var name = root + key;
            PartitionManifest manifest;
            try
            {
                manifest = PartitionManifest.Parse(await store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false), name);
            }
            catch (Exception e) when (e is JsonException or InvalidDataException or NotSupportedException)
            {
                throw new InvalidInputException($"Partition manifest '{name}' is not a manifest the Labeler writes: {e.Message}", e);
            }
            catch (ObjectNotFoundException)
            {
                // Listed, then gone: not a committed state of anything.
                continue;
            }

            set.Manifests++;
            var time = DateTimeOffset.MinValue;
            foreach (var commit in manifest.Commits.OrderBy(c => c.Sequence))
            {
                time = commit.CommittedAt > time ? commit.CommittedAt : time;
                set.Commits.Add(new ShardSetCommit(set, name, manifest.Partition, commit, time));
            }
        }

        if (set.Manifests == 0)
        {
            throw new InvalidInputException(
                $"No partition manifest under '{set.Display}_manifests/': nothing there was committed. Label the unlabeled images first: {ShardSetReader.LabelerCommand}");
        }

        return set;
    }

    private static async Task<bool> AnyAsync(IObjectStore store, string prefix, CancellationToken cancellationToken)
    {
        var page = await store.ListAsync(prefix, 1, null, cancellationToken).ConfigureAwait(false);
        return page.Items.Count > 0 || page.ContinuationToken is not null;
    }

    /// <summary>
    /// Records a shard's footer once <see cref="ShardFooterCheck"/> has accepted it: the first one stands for the set's teacher;
    /// top-k and views per image are the largest any shard records.
    /// </summary>
    public void Record(ShardFooter footer)
    {
        Footer ??= footer;
        TopK = Math.Max(TopK, footer.TopK);
        ViewsPerImage = Math.Max(ViewsPerImage, footer.ViewsPerImage);
    }

    public ShardSetInfo ToInfo() => new(
        Display, Footer!.TeacherId, Footer.WeightsSha256, Footer.TeacherSource, TopK, Footer.ResizeMode, ViewsPerImage, Manifests, Commits.Count, Files);
}
