using KdData.Models;
using KdData.Storage;
using KdData.Tests.Imaging;
using SkiaSharp;

namespace KdData.Tests.Fixtures;

/// <summary>The committed Fashion-MNIST samples and teacher, a second (random) teacher, and broken images for the Labeler tests.</summary>
internal static class LabelerSamples
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    public static string RepoRoot => Root.Value;

    public static string UnlabeledFolder => Path.Combine(RepoRoot, "samples", "fashion-mnist", "unlabeled");

    /// <summary>The committed teacher record (1-channel 28x28 convnet, 10 classes).</summary>
    public static string TeacherRecord => Path.Combine(RepoRoot, "samples", "fashion-mnist", "teacher", "teacher.json");

    /// <summary>The sample images' names in ordinal order.</summary>
    public static IReadOnlyList<string> ImageNames { get; } =
        [.. Directory.EnumerateFiles(Path.Combine(FindRepoRoot(), "samples", "fashion-mnist", "unlabeled"), "*.png").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    public static byte[] Image(int index) => File.ReadAllBytes(Path.Combine(UnlabeledFolder, ImageNames[index]));

    /// <summary>The id the Labeler gives a teacher: 16 hex digits of its weights' SHA-256.</summary>
    public static string TeacherId(string recordPath) =>
        CheckpointSerializer.ParseRecord(File.ReadAllBytes(recordPath)).WeightsSha256![..16];

    /// <summary>Uploads the first <paramref name="count"/> sample images (or <paramref name="copies"/> copies of them under <c>copyN/</c>).</summary>
    public static async Task<IReadOnlyList<ObjectInfo>> UploadAsync(IObjectStore input, int count, int copies = 1)
    {
        var items = (from copy in Enumerable.Range(0, copies)
                     from index in Enumerable.Range(0, count)
                     select (Key: copies == 1 ? ImageNames[index] : $"copy{copy}/{ImageNames[index]}", Index: index)).ToList();
        var bytes = Enumerable.Range(0, count).Select(Image).ToArray();
        var created = new System.Collections.Concurrent.ConcurrentBag<ObjectInfo>();
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (item, ct) =>
            created.Add(await input.CreateAsync(item.Key, bytes[item.Index], ct)));
        return [.. created.OrderBy(i => i.Key, StringComparer.Ordinal)];
    }

    /// <summary>Saves a randomly initialised teacher with the sample teacher's architecture and preprocessing.</summary>
    public static async Task<string> SaveRandomTeacherAsync(string directory)
    {
        var sample = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(TeacherRecord));
        using var model = ModelZoo.Create(sample.Architecture);
        var record = new CheckpointRecord
        {
            Architecture = sample.Architecture,
            Classes = sample.Classes,
            Preprocessing = sample.Preprocessing,
        };
        return await CheckpointSerializer.SaveAsync(model, record, directory, "random-teacher");
    }

    /// <summary>Broken inputs and the reason code the Labeler must record for each.</summary>
    public static IReadOnlyList<(string Key, byte[] Bytes, string Reason)> BrokenImages(long maxPixels)
    {
        var png = TestImages.Encode(TestImages.Noise(64, 64, 11), SKEncodedImageFormat.Png);
        var jpeg = TestImages.Encode(TestImages.Noise(64, 64, 12), SKEncodedImageFormat.Jpeg);
        var side = (int)Math.Sqrt(maxPixels) + 20;
        var random = new byte[4096];
        new Random(13).NextBytes(random);
        return
        [
            ("broken/empty.png", [], "empty"),
            ("broken/truncated.png", png[..(png.Length / 2)], "truncated"),
            ("broken/truncated.jpg", jpeg[..(jpeg.Length / 2)], "truncated"),
            ("broken/random.bin", random, "unknown_format"),
            ("broken/bomb.png", PngWriter.HeaderOnly(100_000, 100_000), "too_large"),
            ("broken/huge.png", TestImages.EncodeGrayPng(side, side, (x, y) => (byte)(x ^ y)), "too_large"),
        ];
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KdData.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"KdData.sln not found above {AppContext.BaseDirectory}.");
    }
}
