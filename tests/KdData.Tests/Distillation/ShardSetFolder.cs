using System.Globalization;
using System.Text.Json;
using KdData.Imaging;
using KdData.SoftTargets;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Distillation;

/// <summary>
/// A Labeler output root (a temp folder unless given a store), written by hand: shards through <see cref="SoftTargetShard"/> /
/// <see cref="ErrorShard"/> with the footer the Labeler writes, and partition manifests that commit them.
/// Lets tests place exactly the rows, commits and damage they need.
/// </summary>
internal sealed class ShardSetFolder : IDisposable
{
    public static readonly IReadOnlyList<string> Classes = ["c0", "c1", "c2"];

    private static readonly float[] Std = [0.353f];

    private readonly Dictionary<string, PartitionManifest> _manifests = new(StringComparer.Ordinal);
    private readonly string? _folder;

    public ShardSetFolder(string teacherId = "0123456789abcdef", string? imageRoot = null)
    {
        Store = TestStores.Local(out var folder);
        _folder = folder;
        TeacherId = teacherId;
        ImageRoot = imageRoot ?? Path.Combine(folder, "images") + "/";
    }

    /// <summary>An output root in <paramref name="store"/> (e.g. an Azurite container, removed by its owner).</summary>
    public ShardSetFolder(IObjectStore store, string imageRoot, string teacherId = "0123456789abcdef")
    {
        Store = store;
        TeacherId = teacherId;
        ImageRoot = imageRoot;
    }

    public IObjectStore Store { get; }

    /// <summary>The output root (the folder holding <c>teacher=&lt;id&gt;/</c>).</summary>
    public string Root => Store.Location.ToString();

    public string TeacherId { get; }

    public string TeacherFolder => $"teacher={TeacherId}/";

    /// <summary>The location recorded as <c>kddata.input</c>.</summary>
    public string ImageRoot { get; }

    /// <summary>The footer the Labeler writes, with the test classes and a 28x28 1-channel preprocessing.</summary>
    public Dictionary<string, string> Footer(IReadOnlyList<string>? classes = null, float mean = 0.286f, string? teacherId = null, bool withInput = true)
    {
        var footer = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kddata.labeler_version"] = "1",
            ["kddata.teacher"] = JsonSerializer.Serialize(new
            {
                id = teacherId ?? TeacherId,
                architecture = new { name = "convnet" },
                weights_sha256 = (teacherId ?? TeacherId) + new string('0', 48),
                classes = classes ?? Classes,
                source = "test",
            }),
            ["kddata.preprocessing"] = JsonSerializer.Serialize(new
            {
                size = 28,
                channels = 1,
                mean = new[] { mean },
                std = Std,
                resize_mode = "Stretch",
                views_per_image = 2,
                view_seed = 0,
                view_scale_min = 0.35,
            }),
            ["kddata.temperature"] = "1",
            ["kddata.top_k"] = "3",
            ["kddata.partition"] = "0/1",
        };
        if (withInput)
        {
            footer["kddata.input"] = ImageRoot;
        }

        return footer;
    }

    /// <summary>A row whose teacher predicts <paramref name="predicted"/> with exactly <paramref name="confidence"/>.</summary>
    public static SoftTargetRow Row(string key, int predicted, float confidence, int view = 0, string etag = "\"e1\"")
    {
        int[] classes = [predicted, .. Enumerable.Range(0, Classes.Count).Where(c => c != predicted)];
        return new SoftTargetRow(
            key, etag, 100, view, new CropDecision(new CropBox(view, 0, 20, 20), view % 2 == 1),
            new SoftTarget(predicted, confidence, 0.5f, classes, [3f, 1f, 0.5f], 3.2f));
    }

    /// <summary>Writes a soft-target shard (not committed until <see cref="CommitAsync"/> names it).</summary>
    public async Task<string> WriteAsync(string file, IEnumerable<SoftTargetRow> rows, IReadOnlyDictionary<string, string>? footer = null)
    {
        using var buffer = new MemoryStream();
        var writer = await SoftTargetShard.CreateWriterAsync(buffer, footer ?? Footer(), new ShardOptions());
        await using (writer)
        {
            await writer.WriteAsync(rows);
            await writer.CompleteAsync();
        }

        await Store.CreateAsync(TeacherFolder + file, buffer.ToArray());
        return file;
    }

    public async Task<string> WriteErrorsAsync(string file, params string[] keys)
    {
        using var buffer = new MemoryStream();
        var writer = await ErrorShard.CreateWriterAsync(buffer, Footer(), new ShardOptions());
        await using (writer)
        {
            await writer.WriteAsync(keys.Select(k => new ErrorRow(k, "\"e1\"", 100, "fetch", "unreadable", "storage failure", null)));
            await writer.CompleteAsync();
        }

        await Store.CreateAsync(TeacherFolder + file, buffer.ToArray());
        return file;
    }

    /// <summary>Writes raw bytes as a shard file.</summary>
    public async Task<string> WriteBytesAsync(string file, byte[] bytes)
    {
        await Store.CreateAsync(TeacherFolder + file, bytes);
        return file;
    }

    /// <summary>Appends a commit to partition <paramref name="partition"/>'s manifest (rewriting it).</summary>
    public async Task CommitAsync(DateTimeOffset at, string? accepted = null, string? rejected = null, string? errors = null, int partition = 0, int partitionCount = 1)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{TeacherFolder}_manifests/partition-{partition:D4}of{partitionCount:D4}.json");
        var manifest = _manifests.GetValueOrDefault(key) ?? new PartitionManifest { Teacher = TeacherId, Partition = partition, PartitionCount = partitionCount };
        var commit = new PartitionCommit { Sequence = manifest.NextSequence, CommittedAt = at, Accepted = accepted, Rejected = rejected, Errors = errors };
        manifest = manifest with { NextSequence = manifest.NextSequence + 1, Commits = [.. manifest.Commits, commit] };
        _manifests[key] = manifest;
        await Store.DeleteAsync(key);
        await Store.CreateAsync(key, manifest.ToJson());
    }

    /// <summary>Writes a shard of <paramref name="rows"/> named after the next sequence and commits it.</summary>
    public async Task CommitRowsAsync(DateTimeOffset at, IEnumerable<SoftTargetRow> rows, IEnumerable<SoftTargetRow>? rejected = null, int partition = 0, int partitionCount = 1)
    {
        var key = string.Create(CultureInfo.InvariantCulture, $"{TeacherFolder}_manifests/partition-{partition:D4}of{partitionCount:D4}.json");
        var sequence = _manifests.GetValueOrDefault(key)?.NextSequence ?? 0;
        var name = string.Create(CultureInfo.InvariantCulture, $"part-{partition:D4}of{partitionCount:D4}-{sequence:D6}.parquet");
        var accepted = await WriteAsync(name, rows);
        var rejectedFile = rejected is null ? null : await WriteAsync("rejected/" + name, rejected);
        await CommitAsync(at, accepted, rejectedFile, partition: partition, partitionCount: partitionCount);
    }

    public void Dispose()
    {
        if (_folder is not null && Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }
}
