using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.Evaluation;

/// <summary>Writes (and reads back) an evaluation: <c>evaluation.json</c> and its PNG charts in one folder.</summary>
public static class EvaluationReportWriter
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // An untrained or diverged model can have an infinite NLL; the report must still be written.
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Draws the charts (learning curves only when <paramref name="history"/> has columns) and writes
    /// <c>evaluation.json</c> last, listing them; returns the report as written. The folder is created if needed.
    /// </summary>
    public static async Task<EvaluationReport> WriteAsync(EvaluationReport report, MetricsHistory? history, string directory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        string? curves = null;
        if (history is not null && EvaluationCharts.SaveLearningCurves(Path.Combine(directory, EvaluationChartFiles.LearningCurvesFile), history))
        {
            curves = EvaluationChartFiles.LearningCurvesFile;
        }

        cancellationToken.ThrowIfCancellationRequested();
        EvaluationCharts.SaveConfusionMatrix(Path.Combine(directory, EvaluationChartFiles.ConfusionMatrixFile), report.Metrics.ConfusionMatrix, report.Classes);
        EvaluationCharts.SaveReliabilityDiagram(Path.Combine(directory, EvaluationChartFiles.ReliabilityDiagramFile), report.Metrics.ReliabilityBins, report.Metrics.ExpectedCalibrationError);
        var written = report with
        {
            Charts = new EvaluationChartFiles
            {
                LearningCurves = curves,
                ConfusionMatrix = EvaluationChartFiles.ConfusionMatrixFile,
                ReliabilityDiagram = EvaluationChartFiles.ReliabilityDiagramFile,
            },
        };
        var json = JsonSerializer.SerializeToUtf8Bytes(written, JsonOptions);
        await File.WriteAllBytesAsync(Path.Combine(directory, EvaluationReport.FileName), json, cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>Reads an <c>evaluation.json</c>.</summary>
    /// <exception cref="InvalidDataException">Not a report.</exception>
    public static async Task<EvaluationReport> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonSerializer.DeserializeAsync<EvaluationReport>(stream, JsonOptions, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"'{path}' is JSON null.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{path}' is not an evaluation report: {e.Message}", e);
            }
        }
    }
}
