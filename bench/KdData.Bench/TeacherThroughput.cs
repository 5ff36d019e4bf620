using System.Diagnostics;

using KdData.Models;
namespace KdData.Bench;

/// <summary>Teacher-only speed: <see cref="InferenceModel.Forward"/> on pre-made random batches, nothing else running.</summary>
internal static class TeacherThroughput
{
    private const int WarmupBatches = 3;
    private const int MinBatches = 5;
    private const int DistinctBatches = 4;

    /// <summary>
    /// Runs warm-up batches, then times whole batches for at least <paramref name="seconds"/>.
    /// Forward includes the float[] -> tensor copy and the logits copy-out, exactly as the Labeler calls it.
    /// </summary>
    public static TeacherThroughputResult Measure(InferenceModel teacher, int batch, int channels, int size, double seconds)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        var length = batch * channels * size * size;
        var random = new Random(42);
        var inputs = new float[DistinctBatches][];
        for (var b = 0; b < DistinctBatches; b++)
        {
            inputs[b] = new float[length];
            for (var i = 0; i < length; i++)
            {
                // Roughly the range of normalised Fashion-MNIST pixels.
                inputs[b][i] = (float)((random.NextDouble() * 3.6) - 0.8);
            }
        }

        for (var b = 0; b < WarmupBatches; b++)
        {
            teacher.Forward(inputs[b % DistinctBatches], batch, channels, size, size);
        }

        var batchSeconds = new List<double>();
        using var self = Process.GetCurrentProcess();
        var cpuBefore = self.TotalProcessorTime;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || batchSeconds.Count < MinBatches)
        {
            var started = Stopwatch.GetTimestamp();
            teacher.Forward(inputs[batchSeconds.Count % DistinctBatches], batch, channels, size, size);
            batchSeconds.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        var elapsed = total.Elapsed.TotalSeconds;
        self.Refresh();
        var cpu = (self.TotalProcessorTime - cpuBefore).TotalSeconds;
        batchSeconds.Sort();
        var median = batchSeconds[batchSeconds.Count / 2];
        return new TeacherThroughputResult(
            batchSeconds.Count,
            elapsed,
            batchSeconds.Count * batch / elapsed,
            batch / median,
            batch / batchSeconds[0],
            cpu / (batchSeconds.Count * batch));
    }
}
