using System.ComponentModel.DataAnnotations;
using KdData.Datasets;
using KdData.Evaluation;

namespace KdData.Trainer;

/// <summary>The <c>evaluate</c> command. Bound from the <c>Evaluate</c> section; images come from <c>Trainer:Data</c>.</summary>
public sealed class EvaluateOptions
{
    public const string SectionName = "Trainer:Evaluate";

    /// <summary>Checkpoint record to evaluate (a local path). Default <c>out/teacher/best.json</c>, what <c>teacher</c> writes.</summary>
    [Required]
    public string Checkpoint { get; set; } = "out/teacher/best.json";

    /// <summary>Labels manifest key within the dataset (<c>Trainer:Data:Dataset</c>). Default <c>manifest.parquet</c>.</summary>
    [Required]
    public string Manifest { get; set; } = DatasetLayout.ManifestKey;

    /// <summary>Split of the manifest to evaluate; empty for every row. Default <c>test</c>.</summary>
    public string Split { get; set; } = DatasetSplits.Test;

    /// <summary>Teacher checkpoint record to compare with (agreement, KL). Default none.</summary>
    public string? Teacher { get; set; }

    /// <summary>
    /// A Labeler output (holding one <c>teacher=&lt;id&gt;/</c> folder) or a teacher folder: its committed
    /// pseudo-labels are scored against the dataset's <c>pool-labels.parquet</c>. Default none.
    /// </summary>
    public string? Shards { get; set; }

    /// <summary>
    /// Prefix that turns a shard key (relative to the Labeler's input) into a dataset key. Default: derived from
    /// the shards' recorded input when it lies inside the dataset, else <c>unlabeled/</c>.
    /// </summary>
    public string? ShardKeyPrefix { get; set; }

    /// <summary>Folder for <c>evaluation.json</c> and the charts. Default <c>out/evaluation</c>.</summary>
    [Required]
    public string Output { get; set; } = "out/evaluation";

    /// <summary>Images per forward pass. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Equal-width confidence bins of the expected calibration error. Default 15.</summary>
    [Range(1, 1000)]
    public int CalibrationBins { get; set; } = ClassificationMetrics.DefaultCalibrationBins;

    /// <summary>What <see cref="EvaluationInputs"/> loads for these settings, from the dataset at <paramref name="dataset"/>.</summary>
    public EvaluationInputOptions ToInputOptions(string dataset) => new()
    {
        Dataset = dataset,
        Checkpoint = Checkpoint,
        Manifest = Manifest,
        Split = Split,
        Teacher = Teacher,
        Shards = Shards,
    };
}
