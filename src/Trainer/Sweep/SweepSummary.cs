using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace KdData.Trainer;

/// <summary>
/// The sweep's summary, written once every point has finished: <c>sweep.json</c> (axes, every point's result, the
/// best point), <c>sweep.md</c> (a Markdown table, best point in bold) and <c>heatmap.png</c> (best accuracy over the
/// first two axes; with one axis a single row; with more, each cell shows the best over the other axes).
/// </summary>
public static class SweepSummary
{
    public const string JsonFile = "sweep.json";
    public const string MarkdownFile = "sweep.md";
    public const string HeatmapFile = "heatmap.png";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the three files into <paramref name="folder"/>; returns the best point.</summary>
    public static async Task<SweepPointResult> WriteAsync(string folder, SweepGrid grid, IReadOnlyList<SweepPointResult> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            throw new ArgumentException("A summary needs at least one finished point.", nameof(results));
        }
        Directory.CreateDirectory(folder);
        var best = results.OrderByDescending(r => r.BestAccuracy).ThenBy(r => r.Index).First();
        var json = new
        {
            metric = "best_accuracy: highest per-epoch accuracy on the evaluation (test) split",
            axes = grid.Axes.Select(a => new { key = a.Key, values = a.Values }),
            best,
            points = results,
        };
        await WriteAtomicallyAsync(Path.Combine(folder, JsonFile), JsonSerializer.SerializeToUtf8Bytes(json, Indented), cancellationToken).ConfigureAwait(false);
        await WriteAtomicallyAsync(Path.Combine(folder, MarkdownFile), Encoding.UTF8.GetBytes(Markdown(grid, results, best)), cancellationToken).ConfigureAwait(false);
        SaveHeatmap(Path.Combine(folder, HeatmapFile), grid, results);
        return best;
    }

    /// <summary>Writes a file so that a reader sees the old or the new content, never a torn one (temp file, then rename).</summary>
    public static async Task WriteAtomicallyAsync(string path, byte[] bytes, CancellationToken cancellationToken = default)
    {
        // Unique per writer: pods sharing a volume may all be process 1.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temporary, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The Markdown table: one row per point, the axes as columns, the best point in bold.</summary>
    public static string Markdown(SweepGrid grid, IReadOnlyList<SweepPointResult> results, SweepPointResult best)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(best);
        var text = new StringBuilder();
        text.Append("| point | ").AppendJoin(" | ", grid.Axes.Select(a => $"`{a.Key}`")).AppendLine(" | best accuracy | at epoch | last accuracy | epochs | seconds |");
        text.Append("|---|").AppendJoin(string.Empty, grid.Axes.Select(_ => "---|")).AppendLine("---:|---:|---:|---:|---:|");
        foreach (var r in results.OrderBy(r => r.Index))
        {
            var bold = r.Index == best.Index ? "**" : string.Empty;
            text.Append(CultureInfo.InvariantCulture, $"| {bold}{r.Name}{bold} | ")
                .AppendJoin(" | ", grid.Axes.Select(a => r.Settings[a.Key]))
                .AppendLine(CultureInfo.InvariantCulture, $" | {bold}{r.BestAccuracy * 100:F2} %{bold} | {r.BestEpoch} | {r.LastAccuracy * 100:F2} % | {r.Epochs} | {r.Seconds:F0} |");
        }
        text.AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Best: {best.Name} ({string.Join(", ", best.Settings.Select(s => $"{s.Key}={s.Value}"))}), {best.BestAccuracy * 100:F2} % at epoch {best.BestEpoch}.")
            .AppendLine("Accuracy is measured on the evaluation split (the dataset's test split): picking the best point on it is optimistic by the selection.");
        return text.ToString();
    }

    /// <summary>The best accuracy per cell of the first two axes (rows: axis 0, columns: axis 1), NaN where no point finished.</summary>
    public static double[,] Cells(SweepGrid grid, IReadOnlyList<SweepPointResult> results)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(results);
        var rows = grid.Axes[0].Values.Count;
        var columns = grid.Axes.Count > 1 ? grid.Axes[1].Values.Count : 1;
        var cells = new double[rows, columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                cells[r, c] = double.NaN;
            }
        }
        foreach (var result in results)
        {
            var point = grid.Points[result.Index];
            var (r, c) = (point.Coordinates[0], grid.Axes.Count > 1 ? point.Coordinates[1] : 0);
            cells[r, c] = double.IsNaN(cells[r, c]) ? result.BestAccuracy : Math.Max(cells[r, c], result.BestAccuracy);
        }
        return cells;
    }

    private static void SaveHeatmap(string path, SweepGrid grid, IReadOnlyList<SweepPointResult> results)
    {
        var cells = Cells(grid, results);
        var (rows, columns) = (cells.GetLength(0), cells.GetLength(1));
        var percent = new double[rows, columns];
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                percent[r, c] = cells[r, c] * 100;
            }
        }
        using var plot = new Plot();
        var heatmap = plot.Add.Heatmap(percent);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Rectangle = new CoordinateRect(-0.5, columns - 0.5, -0.5, rows - 0.5);
        var finite = cells.Cast<double>().Where(double.IsFinite).ToList();
        var (low, high) = (finite.Min(), finite.Max());
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                // Heatmap row 0 is drawn at the top.
                var value = cells[r, c];
                var text = plot.Add.Text(double.IsFinite(value) ? (value * 100).ToString("F2", CultureInfo.InvariantCulture) : "-", c, rows - 1 - r);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = 14;
                text.LabelFontColor = double.IsFinite(value) && high > low && (value - low) / (high - low) > 0.6 ? Colors.Black : Colors.White;
            }
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (var c = 0; c < columns; c++)
        {
            xTicks.AddMajor(c, grid.Axes.Count > 1 ? grid.Axes[1].Values[c] : string.Empty);
        }
        for (var r = 0; r < rows; r++)
        {
            yTicks.AddMajor(rows - 1 - r, grid.Axes[0].Values[r]);
        }
        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "best accuracy (%)";
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        plot.HideGrid();
        var others = grid.Axes.Count > 2 ? $" (best over {string.Join(", ", grid.Axes.Skip(2).Select(a => a.Key))})" : string.Empty;
        plot.Title($"Sweep: best evaluation accuracy (%){others}", 14);
        plot.XLabel(grid.Axes.Count > 1 ? grid.Axes[1].Key : string.Empty, 11);
        plot.YLabel(grid.Axes[0].Key, 11);
        plot.SavePng(path, Math.Max(500, 140 + (110 * columns)), Math.Max(360, 140 + (80 * rows)));
    }
}
