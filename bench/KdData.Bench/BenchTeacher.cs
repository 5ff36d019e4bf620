using KdData.Models;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>
/// The benchmark's teacher: a randomly initialised resnet18 with the small stem at 32x32, saved as a
/// checkpoint. Weight values do not change the cost of a forward pass, so no training is needed.
/// </summary>
internal static class BenchTeacher
{
    public const int Size = 32;
    public const string Architecture = "resnet18";

    /// <summary>Fashion-MNIST train statistics, repeated per channel for an RGB teacher.</summary>
    private const float Mean = 0.2860f;
    private const float Std = 0.3530f;

    /// <summary>Side of the trivial teacher's input: Fashion-MNIST's own 28, so no resize happens.</summary>
    public const int TrivialSize = 28;

    /// <summary>Input side of the named bench teacher (<c>resnet18</c> or <c>trivial</c>).</summary>
    public static int SizeOf(string teacher) => teacher == "trivial" ? TrivialSize : Size;

    /// <summary>A description of the named bench teacher for the table.</summary>
    public static string Describe(string teacher, int channels) => teacher == "trivial"
        ? $"trivial (avgpool_linear: global average pool + linear), {TrivialSize}x{TrivialSize}x{channels}, random weights"
        : $"{Architecture} (small stem), {Size}x{Size}x{channels}, random weights";

    /// <summary>
    /// Writes the named bench teacher: resnet18, or the trivial one — <c>avgpool_linear</c> (global average pool,
    /// then a linear layer to 10 classes) at 28x28, whose forward pass costs next to nothing, so an end-to-end run measures the rest of the pipeline. The architecture comes from
    /// the model zoo so the Labeler loads it exactly as it loads a real teacher.
    /// </summary>
    public static Task<(string RecordPath, long Parameters)> CreateAsync(string directory, string teacher, int channels, CancellationToken cancellationToken = default) =>
        teacher != "trivial"
            ? CreateAsync(directory, channels, cancellationToken)
            : CreateAsync(
                directory,
                new ModelSpec { Name = "avgpool_linear", NumClasses = 10, InChannels = channels },
                new PreprocessingRecord
                {
                    Width = TrivialSize,
                    Height = TrivialSize,
                    Channels = channels,
                    Mean = [.. Enumerable.Repeat(Mean, channels)],
                    Std = [.. Enumerable.Repeat(Std, channels)],
                },
                [.. Enumerable.Range(0, 10).Select(i => $"class{i}")],
                cancellationToken);

    /// <summary>Writes <c>teacher.json</c> (+ weights) into <paramref name="directory"/>; returns the record's path and the parameter count.</summary>
    public static Task<(string RecordPath, long Parameters)> CreateAsync(string directory, int channels, CancellationToken cancellationToken = default) =>
        CreateAsync(
            directory,
            new ModelSpec { Name = Architecture, NumClasses = 10, InChannels = channels, Stem = "small" },
            new PreprocessingRecord
            {
                Width = Size,
                Height = Size,
                Channels = channels,
                Mean = [.. Enumerable.Repeat(Mean, channels)],
                Std = [.. Enumerable.Repeat(Std, channels)],
            },
            [.. Enumerable.Range(0, 10).Select(i => $"class{i}")],
            cancellationToken);

    /// <summary>
    /// Any architecture with random (seeded) weights, saved as <c>teacher.json</c> (+ weights) in
    /// <paramref name="directory"/>; returns the record's path and the parameter count. <paramref name="classes"/> must
    /// be the data set's when its shards are to be distilled from (the shard reader checks them).
    /// </summary>
    public static async Task<(string RecordPath, long Parameters)> CreateAsync(
        string directory, ModelSpec spec, PreprocessingRecord preprocessing, IReadOnlyList<string> classes, CancellationToken cancellationToken = default)
    {
        manual_seed(1234);
        using var model = ModelZoo.Create(spec);
        var record = new CheckpointRecord
        {
            Architecture = spec,
            Classes = classes,
            Preprocessing = preprocessing,
        };
        var path = await CheckpointSerializer.SaveAsync(model, record, directory, "teacher", cancellationToken);
        return (path, ModelZoo.CountParameters(model));
    }
}
