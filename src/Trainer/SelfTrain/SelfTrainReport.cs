using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KdData.Trainer;

/// <summary>
/// The files of a self-training run: each round's <c>round-N/round.json</c> (written last, atomically: its presence
/// marks the round done) and the per-round table, <c>selftrain.md</c> (Markdown) and <c>selftrain.json</c>.
/// </summary>
internal static class SelfTrainReport
{
    public const string TableFileName = "selftrain.md";
    public const string JsonFileName = "selftrain.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    /// <summary>The folder of round <paramref name="round"/> (1-based) under the run's output.</summary>
    public static string RoundFolder(string output, int round) => Path.Combine(output, string.Create(CultureInfo.InvariantCulture, $"round-{round}"));

    /// <summary>The round's record, or null when the round has not finished (no record, or a torn one from a crash).</summary>
    public static async Task<SelfTrainRound?> TryReadRoundAsync(string roundFolder, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(roundFolder, SelfTrainRound.FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<SelfTrainRound>(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false), Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static Task WriteRoundAsync(string roundFolder, SelfTrainRound round, CancellationToken cancellationToken = default) =>
        WriteAtomicallyAsync(Path.Combine(roundFolder, SelfTrainRound.FileName), JsonSerializer.SerializeToUtf8Bytes(round, Json), cancellationToken);

    /// <summary>Writes <c>selftrain.md</c> and <c>selftrain.json</c>; returns the Markdown table.</summary>
    public static async Task<string> WriteTableAsync(string output, IReadOnlyList<SelfTrainRound> rounds, int plannedRounds, CancellationToken cancellationToken = default)
    {
        var markdown = Markdown(rounds);
        await WriteAtomicallyAsync(Path.Combine(output, TableFileName), Encoding.UTF8.GetBytes(markdown), cancellationToken).ConfigureAwait(false);
        var json = JsonSerializer.SerializeToUtf8Bytes(new { PlannedRounds = plannedRounds, Rounds = rounds }, Json);
        await WriteAtomicallyAsync(Path.Combine(output, JsonFileName), json, cancellationToken).ConfigureAwait(false);
        return markdown;
    }

    /// <summary>One row per finished round: the teacher, its pseudo-labels on the pool, the student it taught.</summary>
    public static string Markdown(IReadOnlyList<SelfTrainRound> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var text = new StringBuilder();
        text.AppendLine("| round | teacher | teacher accuracy | pseudo-label accuracy (pool) | student | student accuracy | student − teacher (points) | agreement | params (student) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rounds)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Round} | {r.TeacherId} | {Percent(r.TeacherAccuracy)} | {Percent(r.PseudoLabelAccuracy)} | {r.StudentId} | {Percent(r.StudentAccuracy)} | {(r.StudentAccuracy - r.TeacherAccuracy) * 100:+0.00;-0.00;0.00} | {Percent(r.Agreement)} | {r.StudentParameters} |"));
        }

        return text.ToString();
    }

    private static string Percent(double? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v * 100:F2} %") : "—";

    private static async Task WriteAtomicallyAsync(string path, byte[] bytes, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }
}
