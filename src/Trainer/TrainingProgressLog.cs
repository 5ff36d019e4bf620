using System.Globalization;
using KdData.Hosting;
using KdData.Training;

namespace KdData.Trainer;

/// <summary>
/// How every training stage shows progress: a progress bar on a terminal (log lines otherwise) during an epoch, and
/// one log line per completed epoch with its metrics (the distillation parts when present).
/// </summary>
public sealed class TrainingProgressLog : IProgress<TrainingProgress>
{
    private readonly ILogger _logger;
    private readonly ProgressReporter _reporter;

    private TrainingProgressLog(ILogger logger)
    {
        _logger = logger;
        _reporter = new ProgressReporter(logger);
    }

    /// <summary>A progress sink that reports on <paramref name="logger"/>.</summary>
    public static TrainingProgressLog Create(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        return new TrainingProgressLog(logger);
    }

    /// <inheritdoc />
    public void Report(TrainingProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.CompletedEpoch is { } m)
        {
            _reporter.EndLine();
            var distillation = m.Distillation is null
                ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $", kd {m.Distillation:F4} ce {m.CrossEntropy:F4} T {m.Temperature:G3} alpha {m.Alpha:G3}");
            var representation = m.Representation is null
                ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $", rep {m.Representation:F4} ({string.Join(" ", m.RepresentationTerms!.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Key} {t.Value:F4}")))})");
            var teacher = m.Agreement is null
                ? string.Empty
                : string.Create(CultureInfo.InvariantCulture, $", teacher KL {m.TeacherKl:F4} agreement {m.Agreement:F4}");
            _logger.LogInformation(
                "Epoch {Epoch}/{Epochs}: train loss {TrainLoss:F4} acc {TrainAccuracy:F4}{Distillation}{Representation}, eval loss {EvalLoss:F4} acc {EvalAccuracy:F4}{Teacher}, lr {LearningRate:G3}, {ImagesPerSecond:F0} images/s",
                m.Epoch, value.Epochs, m.TrainLoss, m.TrainAccuracy, distillation, representation, m.EvalLoss, m.EvalAccuracy, teacher, m.LearningRate, m.ImagesPerSecond);
            return;
        }

        _reporter.Report(
            string.Create(CultureInfo.InvariantCulture, $"epoch {value.Epoch}/{value.Epochs}"),
            value.Step,
            value.StepsPerEpoch,
            string.Create(CultureInfo.InvariantCulture, $"loss {value.Loss:F4} lr {value.LearningRate:G3} {value.ImagesPerSecond:F0} img/s"));
    }

    /// <summary>Ends a progress bar line, if one is open.</summary>
    public void EndLine() => _reporter.EndLine();
}
