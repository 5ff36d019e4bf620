using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.Training;

/// <summary>
/// <c>metrics.jsonl</c>: one <see cref="EpochMetrics"/> JSON object per line, in epoch order. A line is appended
/// (and flushed) before the epoch's checkpoint is written, so after a crash the file can only be ahead of the
/// checkpoint, never behind; <see cref="TruncateAfterAsync"/> drops the lines the checkpoint does not cover.
/// </summary>
internal static class MetricsLog
{
    private static readonly JsonSerializerOptions LineOptions = new()
    {
        WriteIndented = false,
        // A diverged epoch reports NaN; the line must still be written.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task AppendAsync(string path, EpochMetrics metrics, CancellationToken cancellationToken = default)
    {
        var line = JsonSerializer.Serialize(metrics, LineOptions) + "\n";
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// Keeps the lines of epochs 1..<paramref name="lastEpoch"/> (each once, in order) and drops the rest,
    /// including a torn last line; rewrites the file atomically only when something changes.
    /// </summary>
    public static async Task TruncateAfterAsync(string path, int lastEpoch, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            return;
        }
        var lines = await File.ReadAllLinesAsync(path, Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        var kept = new List<string>(lines.Length);
        var previous = 0;
        foreach (var line in lines)
        {
            var epoch = TryReadEpoch(line);
            if (epoch is { } e && e == previous + 1 && e <= lastEpoch)
            {
                kept.Add(line);
                previous = e;
            }
        }
        if (kept.Count == lines.Length && (lines.Length == 0 || !HasTornTail(path)))
        {
            return;
        }
        var text = kept.Count == 0 ? string.Empty : string.Join('\n', kept) + "\n";
        await AtomicFile.WriteAllBytesAsync(path, Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
    }

    private static int? TryReadEpoch(string line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.TryGetProperty("epoch", out var epoch) && epoch.TryGetInt32(out var value) ? value : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A file that does not end in a newline was cut mid-write; its last line parses as nothing useful.
    private static bool HasTornTail(string path)
    {
        using var stream = File.OpenRead(path);
        if (stream.Length == 0)
        {
            return false;
        }
        stream.Seek(-1, SeekOrigin.End);
        return stream.ReadByte() != '\n';
    }
}
