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
