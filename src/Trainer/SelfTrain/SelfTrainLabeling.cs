namespace KdData.Trainer;

/// <summary>What one Labeler run of a self-training round did (the last run: a resumed round's rerun labels only what is new).</summary>
public sealed record SelfTrainLabeling
{
    /// <summary>The <c>teacher=&lt;id&gt;/</c> folder the soft targets are in.</summary>
    public required string Folder { get; init; }

    /// <summary>Images the teacher labeled in this run.</summary>
    public required long Labeled { get; init; }

    /// <summary>Images skipped because this teacher had already labeled them (same key and ETag, committed).</summary>
    public required long AlreadyLabeled { get; init; }

    /// <summary>Accepted views written in this run.</summary>
    public required long AcceptedViews { get; init; }

    /// <summary>Images that could not be labeled in this run.</summary>
    public required long Errors { get; init; }
}
