using KdData.Datasets;

namespace KdData.Evaluation;

/// <summary>
/// What <see cref="EvaluationInputs.LoadAsync"/> loads: the dataset, the split of its labels manifest, the checkpoint
/// and optionally a teacher and a shard set. The <c>evaluate</c> command fills it from its settings; the messages of a
/// bad input name those settings (<c>Trainer:Evaluate:Checkpoint</c>, <c>Trainer:Evaluate:Teacher</c>, <c>Trainer:Evaluate:Manifest</c>).
/// </summary>
public sealed record EvaluationInputOptions
{
    /// <summary>The dataset root location (<c>Trainer:Data:Dataset</c>).</summary>
    public required string Dataset { get; init; }

    /// <summary>Checkpoint record to evaluate (a local path).</summary>
    public required string Checkpoint { get; init; }

    /// <summary>Labels manifest key within the dataset. Default <c>manifest.parquet</c>.</summary>
    public string Manifest { get; init; } = DatasetLayout.ManifestKey;

    /// <summary>Split of the manifest to evaluate; empty for every row. Default <c>test</c>.</summary>
    public string Split { get; init; } = DatasetSplits.Test;

    /// <summary>Teacher checkpoint record to compare with; null or blank for none.</summary>
    public string? Teacher { get; init; }

    /// <summary>A Labeler output or teacher folder whose pseudo-labels are scored against the pool's labels; null or blank for none.</summary>
    public string? Shards { get; init; }
}
