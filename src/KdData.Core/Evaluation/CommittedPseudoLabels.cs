using System.Text.Json;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Evaluation;

/// <summary>
/// The pseudo-labels a Labeler run committed for one teacher: the top-1 class of every view listed by the
/// partition manifests (<c>teacher=&lt;id&gt;/_manifests/partition-*.json</c>; files no manifest lists do not
/// count). Where a key was labeled again (a new ETag, a retried unreadable image) the row of the latest commit
/// of its partition wins, per view. Only what evaluation needs is kept (key, view, class), so even a large
/// shard set costs a few bytes per view; the distill stage has its own full reader.
/// </summary>
public sealed class CommittedPseudoLabels
{
    private const string ManifestFolder = "_manifests/";

    private CommittedPseudoLabels(string folder, int files, List<(string Key, int Predicted)> accepted, List<(string Key, int Predicted)> rejected, string? input, IReadOnlyList<string>? classes)
    {
        Folder = folder;
        Files = files;
        Accepted = accepted;
        Rejected = rejected;
        Input = input;
        TeacherClasses = classes;
    }

    /// <summary>The teacher folder within the store that was read (e.g. <c>teacher=343ea00c39c3c068/</c>, or empty).</summary>
    public string Folder { get; }

    /// <summary>Committed shard files read.</summary>
    public int Files { get; }

    /// <summary>Accepted views: (key relative to the Labeler's input, predicted class).</summary>
    public IReadOnlyList<(string Key, int Predicted)> Accepted { get; }

    /// <summary>Views below the Labeler's confidence threshold.</summary>
    public IReadOnlyList<(string Key, int Predicted)> Rejected { get; }

    /// <summary>The Labeler's input location from the shard footers (<c>kddata.input</c>), if recorded.</summary>
    public string? Input { get; }

    /// <summary>The teacher's class names from the shard footers (<c>kddata.teacher</c>), if recorded.</summary>
    public IReadOnlyList<string>? TeacherClasses { get; }

    /// <summary>
    /// Reads the committed views under <paramref name="store"/>: either a teacher folder itself, or a Labeler
    /// output holding exactly one <c>teacher=&lt;id&gt;/</c> folder.
    /// </summary>
    /// <exception cref="InvalidDataException">No committed shards, several teacher folders, an unreadable manifest or
    /// shard, or shards that disagree on the teacher's classes; the message names the file.</exception>
    public static async Task<CommittedPseudoLabels> ReadAsync(IObjectStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var manifests = new List<string>();
        await foreach (var item in store.ListAllAsync(string.Empty, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (item.Key.Contains(ManifestFolder, StringComparison.Ordinal) && item.Key.EndsWith(".json", StringComparison.Ordinal))
            {
                manifests.Add(item.Key);
            }
        }

        var folders = manifests.Select(k => k[..k.IndexOf(ManifestFolder, StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
        {
            throw new InvalidDataException($"Shard set '{store.Location}' has no committed shards (no {ManifestFolder}partition-*.json); run the Labeler first (dotnet run --project src/Labeler).");
        }

        if (folders.Count > 1)
        {
            throw new InvalidDataException($"Shard set '{store.Location}' holds several teacher folders ({string.Join(", ", folders)}); point it at one of them.");
        }

        var folder = folders[0];
        var views = new Dictionary<(string Key, int View), (int Predicted, bool Rejected)>();
        var files = 0;
        string? input = null;
        IReadOnlyList<string>? classes = null;
        foreach (var manifestKey in manifests)
        {
            PartitionManifest manifest;
            try
            {
                manifest = PartitionManifest.Parse(await store.ReadAllBytesAsync(manifestKey, cancellationToken).ConfigureAwait(false), manifestKey);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"Partition manifest '{store.Location}{manifestKey}' is not valid JSON: {e.Message}", e);
            }

            foreach (var commit in manifest.Commits.OrderBy(c => c.Sequence))
            {
                foreach (var (file, rejected) in new[] { (commit.Accepted, false), (commit.Rejected, true) })
                {
                    if (file is null)
                    {
                        continue;
                    }

                    var key = folder + file;
                    var bytes = await store.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
                    using var buffer = new MemoryStream(bytes, writable: false);
                    var reader = await SoftTargetShard.OpenReaderAsync(buffer, cancellationToken).ConfigureAwait(false);
                    await using (reader.ConfigureAwait(false))
                    {
                        files++;
                        input ??= reader.Metadata.GetValueOrDefault("kddata.input");
                        var fileClasses = TeacherClassesOf(reader.Metadata, $"{store.Location}{key}");
                        if (fileClasses is not null && classes is not null && !fileClasses.SequenceEqual(classes, StringComparer.Ordinal))
                        {
                            throw new InvalidDataException($"Shard '{store.Location}{key}' was labeled by a teacher with other classes than the rest of the shard set.");
                        }

                        classes ??= fileClasses;
                        await foreach (var row in reader.ReadRowsAsync(cancellationToken).ConfigureAwait(false))
                        {
                            views[(row.Key, row.View)] = (row.Target.Predicted, rejected);
                        }
                    }
                }
            }
        }

        var ordered = views.OrderBy(v => v.Key.Key, StringComparer.Ordinal).ThenBy(v => v.Key.View).ToList();
        return new CommittedPseudoLabels(
            folder,
            files,
            [.. ordered.Where(v => !v.Value.Rejected).Select(v => (v.Key.Key, v.Value.Predicted))],
            [.. ordered.Where(v => v.Value.Rejected).Select(v => (v.Key.Key, v.Value.Predicted))],
            input,
            classes);
    }

    private static List<string>? TeacherClassesOf(IReadOnlyDictionary<string, string> metadata, string name)
    {
        if (!metadata.TryGetValue("kddata.teacher", out var json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty("classes", out var classes) && classes.ValueKind == JsonValueKind.Array
                ? [.. classes.EnumerateArray().Select(c => c.GetString() ?? string.Empty)]
                : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Shard '{name}' has a malformed kddata.teacher footer: {e.Message}", e);
        }
    }
}
