namespace KdData.Labeling;

/// <summary>How a labeling run ended.</summary>
public enum LabelingOutcome
{
    /// <summary>Every listed image of the partition is labeled, rejected or recorded as an error.</summary>
    Completed,

    /// <summary>Stopped by a shutdown request after committing what was in flight; rerun to continue.</summary>
    Interrupted,

    /// <summary>Stopped because too many images failed (see <see cref="LabelingOptions.MaxErrors"/>); what was done is committed.</summary>
    ErrorThresholdExceeded,
}
