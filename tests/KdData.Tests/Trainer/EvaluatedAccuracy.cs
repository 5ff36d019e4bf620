using KdData.Evaluation;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary>A checkpoint's accuracy recomputed by <c>kddata-trainer evaluate</c>, to check the figure a job recorded for it.</summary>
internal static class EvaluatedAccuracy
{
    /// <summary>Evaluates <paramref name="checkpoint"/> on the committed sample's test split (the jobs' evaluation split), writing into <paramref name="output"/>.</summary>
    public static async Task<double> OfAsync(string checkpoint, string output)
    {
        var code = await TrainerCommandLine.RunAsync(
            ["evaluate", "--checkpoint", checkpoint, "--dataset", SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar, "--output", output, "--Torch:Threads=2"],
            TextWriter.Null, TextWriter.Null);
        Assert.Equal(ExitCodes.Success, code);
        var report = await EvaluationReportWriter.ReadAsync(Path.Combine(output, EvaluationReport.FileName));
        Assert.Equal(200, report.Metrics.Count);
        return report.Metrics.Accuracy;
    }
}
