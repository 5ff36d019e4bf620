namespace KdData.Trainer;

/// <summary>
/// One finished stage of a <c>pipeline</c> run, as <c>pipeline.json</c> records it. A rerun skips the stage when its
/// record still has <see cref="RecordSha256"/> and its input is still the record (and SHA-256) it was made from.
/// </summary>
public sealed record PipelineStageResult
{
    /// <summary>The stage: <c>distill</c>, <c>prune</c>, <c>quantize</c> or <c>export</c>.</summary>
    public required string Stage { get; init; }

    /// <summary><c>done</c>, or <c>given</c> for a distill stage replaced by an existing student (<c>--skip-distill</c>).</summary>
    public required string Status { get; init; }

    /// <summary>The stage's folder (absolute); none for a given student.</summary>
    public string? Folder { get; init; }

    /// <summary>
    /// The stage's checkpoint record (absolute path): the student's <c>last.json</c>, the pruned <c>pruned.json</c>, the
    /// exported int8 model's <c>quantization.json</c> (or the QAT checkpoint's <c>qat.json</c>), the export's <c>model.json</c>.
    /// </summary>
    public required string Record { get; init; }

    /// <summary>SHA-256 of <see cref="Record"/>'s bytes.</summary>
    public required string RecordSha256 { get; init; }

    /// <summary>The record this stage was made from (the previous stage's <see cref="Record"/>); none for distill.</summary>
    public string? Input { get; init; }

    /// <summary>SHA-256 of <see cref="Input"/> when the stage ran.</summary>
    public string? InputSha256 { get; init; }

    /// <summary>
    /// The settings the pipeline gave the stage (epochs, target, method, ...): a rerun with other values redoes it. A
    /// stage setting given directly (e.g. <c>--Trainer:Quantize:Calibration</c>) is not compared: remove the stage's folder to redo it.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>The stage's main output files by role (absolute paths).</summary>
    public IReadOnlyDictionary<string, string> Outputs { get; init; } = new Dictionary<string, string>();

    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>Wall-clock seconds of the run that finished the stage (not of earlier interrupted runs).</summary>
    public double Seconds { get; init; }
}
