using System.Text.Json;

namespace KdData.Evaluation;

/// <summary>
/// The numeric columns of a training run's <c>metrics.jsonl</c> (one JSON object per epoch), read generically:
/// every property whose value is a finite number becomes a series over the <c>epoch</c> property (or the line
/// number when a line has none). Other stages add their own columns (e.g. <c>kd</c>, <c>ce</c>,
/// <c>agreement</c>, <c>teacher_kl</c>, <c>alpha</c>, <c>temperature</c>) and they are plotted without any
/// change here. Lines that do not parse (a torn last line) and non-finite values (a diverged epoch writes
/// <c>"NaN"</c>) are skipped.
/// </summary>
public sealed class MetricsHistory
{
    private readonly Dictionary<string, List<(double X, double Y)>> _series;

    private MetricsHistory(Dictionary<string, List<(double X, double Y)>> series, List<string> order)
    {
        _series = series;
        Columns = order;
    }

    /// <summary>Column names in order of first appearance (without <c>epoch</c>).</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The (epoch, value) points of a column.</summary>
    public IReadOnlyList<(double X, double Y)> this[string column] => _series[column];

    /// <summary>Reads <paramref name="path"/>; null when the file does not exist.</summary>
    public static async Task<MetricsHistory?> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            return null;
        }

        return Parse(await File.ReadAllLinesAsync(path, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Parses JSON lines.</summary>
    public static MetricsHistory Parse(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var series = new Dictionary<string, List<(double X, double Y)>>(StringComparer.Ordinal);
        var order = new List<string>();
        var lineNumber = 0;
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                continue;
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var x = document.RootElement.TryGetProperty("epoch", out var epoch) && epoch.ValueKind == JsonValueKind.Number ? epoch.GetDouble() : lineNumber;
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Name == "epoch" || property.Value.ValueKind != JsonValueKind.Number || !double.IsFinite(property.Value.GetDouble()))
                    {
                        continue;
                    }

                    if (!series.TryGetValue(property.Name, out var points))
                    {
                        series[property.Name] = points = [];
                        order.Add(property.Name);
                    }

                    points.Add((x, property.Value.GetDouble()));
                }
            }
        }

        return new MetricsHistory(series, order);
    }

    /// <summary>
    /// Columns grouped into chart panels: <c>train_X</c>, <c>eval_X</c>, <c>val_X</c> and <c>test_X</c> share the
    /// panel <c>X</c> (so training and held-out curves of one quantity are drawn together); every other column has
    /// its own panel. Panels keep the order of first appearance.
    /// </summary>
    public IReadOnlyList<(string Panel, IReadOnlyList<string> Columns)> Panels()
    {
        var panels = new List<(string Panel, List<string> Columns)>();
        foreach (var column in Columns)
        {
            var panel = PanelOf(column);
            var index = panels.FindIndex(p => p.Panel == panel);
            if (index < 0)
            {
                panels.Add((panel, [column]));
            }
            else
            {
                panels[index].Columns.Add(column);
            }
        }

        return [.. panels.Select(p => (p.Panel, (IReadOnlyList<string>)p.Columns))];
    }

    private static string PanelOf(string column)
    {
        foreach (var prefix in (ReadOnlySpan<string>)["train_", "eval_", "val_", "test_"])
        {
            if (column.Length > prefix.Length && column.StartsWith(prefix, StringComparison.Ordinal))
            {
                return column[prefix.Length..];
            }
        }

        return column;
    }
}
