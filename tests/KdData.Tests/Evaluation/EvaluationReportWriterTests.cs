using KdData.Evaluation;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Evaluation;

public sealed class EvaluationReportWriterTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task WriteAsync_ReportWithHistory_WritesJsonAndValidPngs()
    {
        using var folder = new TempDirectory();
        var metrics = ClassificationMetrics.Compute([2, 0, 0, 0, 3, 0, 1, 0, 0], [0, 1, 2], numClasses: 3);
        var report = new EvaluationReport
        {
            CreatedAt = DateTimeOffset.UnixEpoch,
            Checkpoint = new EvaluatedModel { Path = "x/best.json", Id = "0123456789abcdef", Architecture = "convnet", Parameters = 42 },
            Data = new EvaluatedData { Dataset = "file:d/", Manifest = "manifest.parquet", Split = "test", Listed = 3, Skipped = 0 },
            Classes = ["a", "b", "c"],
            Metrics = metrics,
            Teacher = new TeacherComparison
            {
                Checkpoint = new EvaluatedModel { Path = "t.json", Id = "fedcba9876543210", Architecture = "wrn", Parameters = 7 },
                Metrics = metrics,
                Agreement = new TeacherAgreement { Count = 3, Top1Agreement = 1, MeanKlTeacherStudent = 0.25 },
            },
        };
        var history = MetricsHistory.Parse(
        [
            """{"epoch":1,"train_loss":1.5,"eval_loss":1.2,"eval_accuracy":0.6,"kd":0.9,"alpha":0.9,"temperature":4}""",
            """{"epoch":2,"train_loss":1.1,"eval_loss":1.0,"eval_accuracy":0.7,"kd":0.7,"alpha":0.8,"temperature":3}""",
        ]);

        var written = await EvaluationReportWriter.WriteAsync(report, history, folder.Path);
        var read = await EvaluationReportWriter.ReadAsync(Path.Combine(folder.Path, EvaluationReport.FileName));

        foreach (var chart in new[] { written.Charts.LearningCurves, written.Charts.ConfusionMatrix, written.Charts.ReliabilityDiagram })
        {
            Assert.NotNull(chart);
            var bytes = await File.ReadAllBytesAsync(Path.Combine(folder.Path, chart));
            Assert.Equal(PngSignature, bytes[..8]);
            Assert.True(bytes.Length > 5_000, $"{chart} is only {bytes.Length} bytes");
        }

        Assert.Equal(metrics.Accuracy, read.Metrics.Accuracy);
        Assert.Equal(metrics.ConfusionMatrix.Select(r => r.ToArray()), read.Metrics.ConfusionMatrix.Select(r => r.ToArray()));
        Assert.Equal(15, read.Metrics.ReliabilityBins.Count);
        Assert.Equal(0.25, read.Teacher!.Agreement.MeanKlTeacherStudent);
        Assert.Equal("0123456789abcdef", read.Checkpoint.Id);
        Assert.Equal(EvaluationChartFiles.LearningCurvesFile, read.Charts.LearningCurves);
        var json = await File.ReadAllTextAsync(Path.Combine(folder.Path, EvaluationReport.FileName));
        Assert.Contains("\"expected_calibration_error\"", json, StringComparison.Ordinal);
        Assert.Contains("\"top1_agreement\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_NoHistory_SkipsTheLearningCurves()
    {
        using var folder = new TempDirectory();
        var report = new EvaluationReport
        {
            CreatedAt = DateTimeOffset.UnixEpoch,
            Checkpoint = new EvaluatedModel { Path = "p", Id = "i", Architecture = "a", Parameters = 1 },
            Data = new EvaluatedData { Dataset = "d", Manifest = "m", Split = "", Listed = 1, Skipped = 0 },
            Classes = ["a", "b"],
            Metrics = ClassificationMetrics.Compute([1, 0], [0], numClasses: 2),
        };

        var written = await EvaluationReportWriter.WriteAsync(report, history: null, folder.Path);

        Assert.Null(written.Charts.LearningCurves);
        Assert.False(File.Exists(Path.Combine(folder.Path, EvaluationChartFiles.LearningCurvesFile)));
        Assert.True(File.Exists(Path.Combine(folder.Path, EvaluationChartFiles.ConfusionMatrixFile)));
    }
}
