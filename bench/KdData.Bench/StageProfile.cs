using System.Diagnostics;
using System.Globalization;
using System.Text;
using KdData.Imaging;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Bench;

/// <summary>
/// Where the feed path's CPU goes: each stage of the Labeler's per-image work run on its own, on one thread, over the
/// same in-memory PNGs (read from the store beforehand, not measured), timed in thread CPU: decode, preprocess
/// (crop/resize/normalise), batch copy, soft targets from logits, and building the rows + writing them as a
/// Parquet shard to memory; and, before those, listing the pool and reading objects from the store (process CPU).
/// The teacher's forward pass is not in it, nor the channels and tasks that join the stages in a real run.
/// </summary>
internal static class StageProfile
{
    private const int Classes = 10;
    private const int Rounds = 3;

    /// <summary>Runs every stage <see cref="Rounds"/> times over up to <paramref name="images"/> images; returns the table (best round per stage, ms of CPU per image).</summary>
    public static async Task<IReadOnlyList<(string Stage, double CpuMsPerImage)>> MeasureAsync(
        IObjectStore pool, int images, int size, int channels, int batch, CancellationToken cancellationToken = default)
    {
        var encoded = new List<(ObjectInfo Info, byte[] Bytes)>(images);
        await foreach (var item in pool.ListAllAsync(string.Empty, 1000, cancellationToken))
        {
            encoded.Add((item, await pool.ReadAllBytesAsync(item.Key, cancellationToken)));
            if (encoded.Count == images)
            {
                break;
            }
        }

        // Storage stages, in process CPU (their awaits may hop threads; nothing else runs meanwhile). Listing is
        // charged per listed object of the whole pool; reads are one at a time.
        using var self = Process.GetCurrentProcess();
        var storage = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var round = 0; round < Rounds; round++)
        {
            self.Refresh();
            var before = self.TotalProcessorTime;
            var listed = 0;
            await foreach (var item in pool.ListAllAsync(string.Empty, 1000, cancellationToken))
            {
                listed++;
            }

            self.Refresh();
            var listMs = (self.TotalProcessorTime - before).TotalMilliseconds / Math.Max(listed, 1);
            before = self.TotalProcessorTime;
            foreach (var (info, _) in encoded)
            {
                await pool.ReadAllBytesAsync(info.Key, cancellationToken);
            }

            self.Refresh();
            var readMs = (self.TotalProcessorTime - before).TotalMilliseconds / encoded.Count;
            storage["list (whole pool, process CPU)"] = Math.Min(storage.GetValueOrDefault("list (whole pool, process CPU)", double.MaxValue), listMs);
            storage["read one object (process CPU)"] = Math.Min(storage.GetValueOrDefault("read one object (process CPU)", double.MaxValue), readMs);
        }

        var imageOptions = new ImageOptions
        {
            OutputSize = size,
            ResizeSize = size,
            ResizeMode = ResizeMode.Stretch,
            Channels = channels,
            Mean = [.. Enumerable.Repeat(0.2860f, channels)],
            Std = [.. Enumerable.Repeat(0.3530f, channels)],
        };
        var decoder = new ImageDecoder(imageOptions);
        var preprocessor = new ImagePreprocessor(imageOptions);
        var random = new Random(7);
        var logits = new float[encoded.Count * Classes];
        for (var i = 0; i < logits.Length; i++)
        {
            logits[i] = (float)((random.NextDouble() * 8) - 4);
        }

        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        void Record(string stage, double seconds) =>
            best[stage] = Math.Min(best.GetValueOrDefault(stage, double.MaxValue), seconds * 1000 / encoded.Count);

        for (var round = 0; round < Rounds; round++)
        {
            var decoded = new DecodedImage[encoded.Count];
            var started = ThreadCpu.Seconds();
            for (var i = 0; i < encoded.Count; i++)
            {
                decoded[i] = decoder.Decode(encoded[i].Bytes, encoded[i].Info.Key);
            }

            Record("decode (PNG -> RGBA bitmap)", ThreadCpu.Seconds() - started);

            var pixels = new float[encoded.Count][];
            started = ThreadCpu.Seconds();
            for (var i = 0; i < encoded.Count; i++)
            {
                pixels[i] = preprocessor.Preprocess(decoded[i], new CropBox(0, 0, decoded[i].Width, decoded[i].Height));
            }

            Record("preprocess (draw + normalise)", ThreadCpu.Seconds() - started);
            foreach (var image in decoded)
            {
                image.Dispose();
            }

            var viewLength = preprocessor.PayloadLength;
            started = ThreadCpu.Seconds();
            for (var first = 0; first < encoded.Count; first += batch)
            {
                var count = Math.Min(batch, encoded.Count - first);
                var flat = new float[count * viewLength];
                for (var i = 0; i < count; i++)
                {
                    pixels[first + i].CopyTo(flat, i * viewLength);
                }
            }

            Record("batch copy", ThreadCpu.Seconds() - started);

            var targets = new SoftTarget[encoded.Count];
            started = ThreadCpu.Seconds();
            for (var i = 0; i < encoded.Count; i++)
            {
                targets[i] = SoftTarget.FromLogits(logits.AsSpan(i * Classes, Classes), Classes);
            }

            Record("soft targets (FromLogits, k = 10)", ThreadCpu.Seconds() - started);

            started = ThreadCpu.Seconds();
            using (var stream = new MemoryStream())
            {
                await using var writer = await SoftTargetShard.CreateWriterAsync(stream, new Dictionary<string, string> { ["kddata.version"] = "1" }, new ShardOptions(), cancellationToken);
                for (var i = 0; i < encoded.Count; i++)
                {
                    var (info, bytes) = encoded[i];
                    var crop = new CropDecision(new CropBox(0, 0, size, size), false);
                    await writer.WriteAsync(new SoftTargetRow(info.Key, info.ETag, bytes.Length, 0, crop, targets[i]), cancellationToken);
                }

                await writer.CompleteAsync(cancellationToken);
            }

            Record("rows + Parquet shard (Zstd, to memory)", ThreadCpu.Seconds() - started);
        }

        return [.. storage.Select(b => (b.Key, b.Value)), .. best.Select(b => (b.Key, b.Value))];
    }

    public static string Table(IReadOnlyList<(string Stage, double CpuMsPerImage)> stages, int images)
    {
        var text = new StringBuilder();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Stage CPU (one thread, {images} in-memory images, best of {Rounds} rounds):"));
        foreach (var (stage, ms) in stages)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {stage,-42} {ms,8:F4} ms/img"));
        }

        text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {"sum",-42} {stages.Sum(s => s.CpuMsPerImage),8:F4} ms/img"));
        return text.ToString();
    }
}
