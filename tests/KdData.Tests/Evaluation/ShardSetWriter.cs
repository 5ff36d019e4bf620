using System.Text.Json;
using KdData.Imaging;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Tests.Evaluation;

/// <summary>Writes a small committed shard set (shards + a partition manifest) the way the Labeler lays it out.</summary>
internal static class ShardSetWriter
{
    private static readonly float[] SampleMean = [0.286f];
    private static readonly float[] SampleStd = [0.353f];

    public static SoftTargetRow Row(string key, int predicted, int classes, int view = 0)
    {
        var logits = new float[classes];
        logits[predicted] = 3;
        return new SoftTargetRow(key, "\"etag\"", 100, view, new CropDecision(new CropBox(0, 0, 28, 28), false), SoftTarget.FromLogits(logits, classes));
    }

    /// <summary>Writes <paramref name="rows"/> as the shard <paramref name="key"/> with the Labeler's footer records.</summary>
    public static async Task WriteShardAsync(IObjectStore store, string key, IEnumerable<SoftTargetRow> rows, IReadOnlyList<string> classes, string input)
    {
        var metadata = new Dictionary<string, string>
        {
            ["kddata.input"] = input,
            ["kddata.teacher"] = JsonSerializer.Serialize(new { id = "0000000000000000", classes }),
            ["kddata.preprocessing"] = JsonSerializer.Serialize(new { size = 28, channels = 1, mean = SampleMean, std = SampleStd, resize_mode = "ShorterSideCenterCrop", views_per_image = 1 }),
        };
        using var buffer = new MemoryStream();
        var writer = await SoftTargetShard.CreateWriterAsync(buffer, metadata, new ShardOptions());
        await using (writer)
        {
            await writer.WriteAsync(rows);
            await writer.CompleteAsync();
        }

        await store.CreateAsync(key, buffer.ToArray());
    }

    public static Task WriteManifestAsync(IObjectStore store, string teacherFolder, params PartitionCommit[] commits) =>
        store.CreateAsync(
            $"{teacherFolder}_manifests/partition-0000of0001.json",
            new PartitionManifest { Teacher = "0000000000000000", Partition = 0, PartitionCount = 1, NextSequence = commits.Length, Commits = commits }.ToJson());
}
