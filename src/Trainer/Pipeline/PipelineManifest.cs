using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.Trainer;

/// <summary><c>pipeline.json</c>: the stages of a <c>pipeline</c> run that finished, in order. Written after every stage.</summary>
public sealed record PipelineManifest
{
    public const string FileName = "pipeline.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Finished stages in pipeline order.</summary>
    public IReadOnlyList<PipelineStageResult> Stages { get; init; } = [];

    /// <summary>The manifest in <paramref name="folder"/>, or an empty one when there is none yet.</summary>
    public static async Task<PipelineManifest> ReadAsync(string folder, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            return new PipelineManifest();
        }
        try
        {
            return JsonSerializer.Deserialize<PipelineManifest>(await File.ReadAllBytesAsync(path, cancellationToken), Json) ?? new PipelineManifest();
        }
        catch (JsonException e)
        {
            throw new Hosting.InvalidInputException($"'{path}' is not a pipeline manifest ({e.Message}); remove it (every stage then resumes from its own folder) or use another --output.", e);
        }
    }

    /// <summary>Writes the manifest atomically (a crash leaves the old one or the new one, never half of one).</summary>
    public async Task WriteAsync(string folder, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(folder, FileName);
        var temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, JsonSerializer.SerializeToUtf8Bytes(this with { UpdatedAt = DateTimeOffset.UtcNow }, Json), cancellationToken);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The finished <paramref name="stage"/>, if recorded.</summary>
    public PipelineStageResult? Find(string stage) => Stages.FirstOrDefault(s => string.Equals(s.Stage, stage, StringComparison.Ordinal));

    /// <summary>
    /// This manifest with <paramref name="result"/> in place of its stage's entry (appended when new). Later stages keep
    /// their entries: each names the input it was made from, so a rerun redoes the ones whose input changed.
    /// </summary>
    public PipelineManifest With(PipelineStageResult result) =>
        this with
        {
            Stages = Find(result.Stage) is null
                ? [.. Stages, result]
                : [.. Stages.Select(s => string.Equals(s.Stage, result.Stage, StringComparison.Ordinal) ? result : s)],
        };

    /// <summary>SHA-256 (lower-case hex) of a file's bytes; null when it does not exist.</summary>
    public static async Task<string?> Sha256Async(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }
}
