using ScottPlot;

namespace KdData.Export;

/// <summary>
/// The model card's trade-off charts (ScottPlot PNGs): accuracy against batch-1 P50 latency and against file size,
/// one labelled point per variant. Only variants with an accuracy (and, for the latency chart, a batch-1
/// measurement) are drawn; a chart with no point is not written.
/// </summary>
public static class ExportCharts
{
    private const int Width = 640;
    private const int Height = 420;

    /// <summary>Accuracy (%) vs batch-1 P50 latency (ms); false when no variant has both.</summary>
    public static bool SaveAccuracyVersusLatency(string path, IReadOnlyList<ExportVariant> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var points = variants
            .Where(v => v.Accuracy is not null && v.Latency.Any(l => l.Batch == 1))
            .Select(v => (v.Name, X: v.Latency.First(l => l.Batch == 1).P50Ms, Y: v.Accuracy!.Value * 100))
            .ToList();
        return Save(path, points, "P50 latency at batch 1 (ms)", "Accuracy vs latency");
    }

    /// <summary>Accuracy (%) vs deployed file size (KiB); false when no variant has an accuracy.</summary>
    public static bool SaveAccuracyVersusSize(string path, IReadOnlyList<ExportVariant> variants)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var points = variants
            .Where(v => v.Accuracy is not null)
            .Select(v => (v.Name, X: v.FileBytes / 1024.0, Y: v.Accuracy!.Value * 100))
            .ToList();
        return Save(path, points, "File size (KiB)", "Accuracy vs size");
    }

    private static bool Save(string path, List<(string Name, double X, double Y)> points, string xLabel, string title)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (points.Count == 0)
        {
            return false;
        }

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var xs = points.Select(p => p.X).ToArray();
        var ys = points.Select(p => p.Y).ToArray();
        var (xSpan, ySpan) = (Math.Max(xs.Max() - xs.Min(), 1e-9), Math.Max(ys.Max() - ys.Min(), 0.5));
        for (var i = 0; i < points.Count; i++)
        {
            var (name, x, y) = points[i];
            // Labelled points rather than a legend: a legend box can hide points wherever it sits.
            plot.Add.Marker(x, y, MarkerShape.FilledCircle, 10, palette.GetColor(i));
            var label = plot.Add.Text(name, x, y);
            label.LabelFontSize = 11;
            label.OffsetX = 8;
            // Variants of equal size or accuracy (fp32 TorchSharp vs fp32 ONNX) sit on top of each other: stack their labels.
            var crowded = Enumerable.Range(0, i).Count(j => Math.Abs(xs[j] - x) < 0.08 * xSpan && Math.Abs(ys[j] - y) < 0.08 * ySpan);
            label.OffsetY = -8 + (14 * crowded);
        }

        // Pad the axes so single points and labels are not glued to the frame.
        var xPad = Math.Max((xs.Max() - xs.Min()) * 0.25, Math.Max(xs.Max() * 0.1, 1e-3));
        var xRight = Math.Max((xs.Max() - xs.Min()) * 0.5, xPad); // room for the labels, which extend to the right
        var yPad = Math.Max((ys.Max() - ys.Min()) * 0.25, 0.5);
        plot.Axes.SetLimits(Math.Max(0, xs.Min() - xPad), xs.Max() + xRight, ys.Min() - yPad, Math.Min(100, ys.Max() + yPad) + (yPad / 2));
        plot.Title(title, 14);
        plot.XLabel(xLabel, 12);
        plot.YLabel("Top-1 accuracy (%)", 12);
        plot.SavePng(path, Width, Height);
        return true;
    }
}
