using System.Globalization;
using ScottPlot;

namespace KdData.Evaluation;

/// <summary>
/// The evaluation's PNG charts, drawn with ScottPlot: learning curves, the confusion matrix and the reliability
/// diagram. Sizes are fixed so that charts of different runs can be compared side by side.
/// </summary>
public static class EvaluationCharts
{
    private const int PanelWidth = 420;
    private const int PanelHeight = 300;

    /// <summary>
    /// One panel per quantity of <paramref name="history"/> (see <see cref="MetricsHistory.Panels"/>) in a grid,
    /// value over epoch. Returns false (and writes nothing) when the history has no numeric column.
    /// </summary>
    public static bool SaveLearningCurves(string path, MetricsHistory history)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(history);
        var panels = history.Panels();
        if (panels.Count == 0)
        {
            return false;
        }

        var columns = Math.Min(3, panels.Count);
        var rows = (panels.Count + columns - 1) / columns;
        var multiplot = new Multiplot();
        multiplot.AddPlots(rows * columns);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (var i = 0; i < rows * columns; i++)
        {
            var plot = multiplot.GetPlot(i);
            if (i >= panels.Count)
            {
                plot.Layout.Frameless();
                plot.HideAxesAndGrid();
                continue;
            }

            var (panel, names) = panels[i];
            var legend = names.Count > 1 || names[0] != panel;
            foreach (var name in names)
            {
                var points = history[name];
                var line = plot.Add.ScatterLine(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
                line.LegendText = legend ? name : string.Empty;
                line.LineWidth = 2;
                line.MarkerSize = points.Count <= 40 ? 4 : 0;
            }

            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.Title(panel, 14);
            plot.XLabel("epoch", 12);
            if (legend)
            {
                plot.ShowLegend(Alignment.UpperRight);
            }
        }

        multiplot.SavePng(path, columns * PanelWidth, rows * PanelHeight);
        return true;
    }

    /// <summary>
    /// A heatmap of <paramref name="matrix"/> (<c>[true][predicted]</c>) with class names on both axes. The colour
    /// is the row-normalised share (so a rare class is as readable as a common one); each cell prints its count.
    /// </summary>
    public static void SaveConfusionMatrix(string path, IReadOnlyList<IReadOnlyList<int>> matrix, IReadOnlyList<string> classes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(classes);
        var n = matrix.Count;
        if (classes.Count != n)
        {
            throw new ArgumentException($"{classes.Count} class names for a {n}x{n} confusion matrix.", nameof(classes));
        }

        using var plot = new Plot();
        var shares = new double[n, n];
        for (var t = 0; t < n; t++)
        {
            var total = Math.Max(1, matrix[t].Sum());
            for (var p = 0; p < n; p++)
            {
                // Heatmap row 0 is drawn at the top, as the true class 0 should be.
                shares[t, p] = (double)matrix[t][p] / total;
            }
        }

        var heatmap = plot.Add.Heatmap(shares);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Rectangle = new CoordinateRect(-0.5, n - 0.5, -0.5, n - 0.5);
        var fontSize = n <= 12 ? 12 : n <= 25 ? 9 : 0;
        for (var t = 0; fontSize > 0 && t < n; t++)
        {
            for (var p = 0; p < n; p++)
            {
                var text = plot.Add.Text(matrix[t][p].ToString(CultureInfo.InvariantCulture), p, n - 1 - t);
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontSize = fontSize;
                text.LabelFontColor = shares[t, p] > 0.6 ? Colors.Black : Colors.White;
            }
        }

        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (var k = 0; k < n; k++)
        {
            xTicks.AddMajor(k, classes[k]);
            yTicks.AddMajor(n - 1 - k, classes[k]);
        }

        plot.Axes.Bottom.TickGenerator = xTicks;
        plot.Axes.Left.TickGenerator = yTicks;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "share of the true class";
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.HideGrid();
        plot.Title("Confusion matrix (count per cell)", 16);
        plot.XLabel("predicted class", 14);
        plot.YLabel("true class", 14);
        plot.SavePng(path, 900, 820);
    }

    /// <summary>
    /// The reliability diagram: per confidence bin, the accuracy as a bar against the diagonal of perfect
    /// calibration, with each bin's mean confidence marked; below it the share of samples in each bin.
    /// </summary>
    public static void SaveReliabilityDiagram(string path, IReadOnlyList<ReliabilityBin> bins, double expectedCalibrationError)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bins);
        var total = Math.Max(1, bins.Sum(b => b.Count));
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.CustomGrid();
        var top = multiplot.GetPlot(0);
        var bottom = multiplot.GetPlot(1);
        var grid = (ScottPlot.MultiplotLayouts.CustomGrid)multiplot.Layout;
        grid.Set(top, new GridCell(0, 0, 4, 1, 3, 1));
        grid.Set(bottom, new GridCell(3, 0, 4, 1, 1, 1));

        var accuracyBars = bins.Where(b => b.Count > 0).Select(b => new Bar
        {
            Position = (b.Lower + b.Upper) / 2,
            Value = b.Accuracy ?? 0,
            Size = (b.Upper - b.Lower) * 0.9,
            FillColor = Colors.SteelBlue,
        }).ToList();
        var barPlot = top.Add.Bars(accuracyBars);
        barPlot.LegendText = "accuracy";
        var diagonal = top.Add.Line(0, 0, 1, 1);
        diagonal.LineColor = Colors.Black;
        diagonal.LineWidth = 1.5f;
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LegendText = "perfect calibration";
        top.MoveToFront(diagonal);
        var filled = bins.Where(b => b.Count > 0).ToList();
        var confidence = top.Add.ScatterPoints(
            filled.Select(b => (b.Lower + b.Upper) / 2).ToArray(),
            filled.Select(b => b.MeanConfidence ?? 0).ToArray(),
            Colors.OrangeRed);
        confidence.MarkerSize = 8;
        confidence.LegendText = "mean confidence";
        top.Axes.SetLimits(0, 1, 0, 1);
        top.Title(string.Create(CultureInfo.InvariantCulture, $"Reliability diagram ({bins.Count} bins, ECE {expectedCalibrationError:F4})"), 15);
        top.YLabel("accuracy", 13);
        top.ShowLegend(Alignment.UpperLeft);

        var countBars = bins.Select(b => new Bar
        {
            Position = (b.Lower + b.Upper) / 2,
            Value = (double)b.Count / total,
            Size = (b.Upper - b.Lower) * 0.9,
            FillColor = Colors.Gray,
        }).ToList();
        bottom.Add.Bars(countBars);
        bottom.Axes.SetLimits(0, 1, 0, Math.Max(0.05, countBars.Max(b => b.Value) * 1.1));
        bottom.XLabel("confidence (top-1 probability)", 13);
        bottom.YLabel("share of samples", 13);
        multiplot.SavePng(path, 700, 800);
    }
}
