using System.Text.Json;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>The run's <see cref="LabelingSummary"/>: built from what was committed, and kept under <c>_runs/</c>.</summary>
internal static class RunSummary
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    public static LabelingSummary Create(
        string teacherId, string teacherSource, IObjectStore input, IObjectStore output, PartitionLayout layout,
        DateTimeOffset startedAt, TimeSpan elapsed, LabelingOutcome outcome, LabelingStatus status, ShardCommitter committer) => new()
    {
        Teacher = teacherId,
        TeacherSource = teacherSource,
        Input = input.Location.ToString(),
        Output = output.Location + layout.TeacherFolder,
        Partition = layout.Partition,
        PartitionCount = layout.Count,
        Outcome = outcome,
        StartedAt = startedAt,
        Listed = status.Listed,
        AlreadyLabeled = status.AlreadyLabeled,
        Images = committer.CommittedImages,
        AcceptedViews = committer.CommittedAccepted,
        RejectedViews = committer.CommittedRejected,
        Errors = committer.CommittedErrors,
        ErrorsByReason = committer.ErrorsByReason,
        Commits = committer.Commits,
        Seconds = elapsed.TotalSeconds,
        InferenceSeconds = status.InferenceTime.TotalSeconds,
        ImagesPerSecond = elapsed.TotalSeconds > 0 ? committer.CommittedImages / elapsed.TotalSeconds : 0,
        ShardBytes = committer.Bytes,
    };

    public static async Task WriteAsync(IObjectStore output, PartitionLayout layout, LabelingSummary summary, CancellationToken cancellationToken = default)
    {
        // The name is unique to this run, so an existing object with the same bytes can only be our own retried
        // write whose first response was lost.
        await output.CreateOrConfirmAsync(layout.SummaryKey(summary.StartedAt), JsonSerializer.SerializeToUtf8Bytes(summary, IndentedJson), cancellationToken).ConfigureAwait(false);
    }
}
