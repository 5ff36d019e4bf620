using System.ComponentModel.DataAnnotations;

namespace KdData.Trainer;

/// <summary>
/// The <c>pipeline</c> command (distill -> prune -> quantize -> export), bound from <c>Trainer:Pipeline</c>. Each stage
/// is the stage's own command run in process, so every setting of a stage (<c>Trainer:Distill:*</c>,
/// <c>Trainer:Prune:*</c>, <c>Trainer:Objective:*</c>, <c>Trainer:Data:*</c>, <c>Quantize:*</c>, <c>Export:*</c>) applies
/// to it; the keys here are the ones the pipeline sets per stage (they win over the stage's own key). The defaults are
/// small, so that <c>dotnet run --project src/Trainer -- pipeline</c> on the committed sample finishes in minutes; a
/// full-scale run raises them (see <c>bench/compression/pipeline.sh</c>).
/// </summary>
public sealed class PipelineOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Pipeline";

    /// <summary>
    /// Local folder of the run: <c>1-distill/</c>, <c>2-prune/</c>, <c>3-quantize/</c> (<c>ptq/</c>, and <c>qat/</c> with
    /// <see cref="Qat"/>), <c>4-export/</c> and <c>pipeline.json</c>, the stages that finished. Default <c>out/pipeline</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string Output { get; set; } = "out/pipeline";

    /// <summary>Start from an existing student (<see cref="Checkpoint"/>, required) instead of distilling one. Default false.</summary>
    public bool SkipDistill { get; set; }

    /// <summary>
    /// The student's checkpoint record (a local path) to start from; giving it skips the distill stage (as
    /// <see cref="SkipDistill"/>). Default none (the pipeline distils its own student).
    /// </summary>
    public string? Checkpoint { get; set; }

    /// <summary>Whether the distill stage is replaced by <see cref="Checkpoint"/>.</summary>
    public bool StartsFromCheckpoint => SkipDistill || !string.IsNullOrWhiteSpace(Checkpoint);

    /// <summary>Distillation epochs (sets <c>Trainer:Distill:Epochs</c>). Default 20 (the sample's size; the stage's own default is 30).</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 20;

    /// <summary>Prune target: share of the student's MACs per image, in (0, 1] (sets <c>Trainer:Prune:TargetMacs</c>). Default 0.5.</summary>
    [Range(1e-6, 1.0)]
    public double TargetMacs { get; set; } = 0.5;

    /// <summary>Prune steps, each followed by a KD fine-tune (sets <c>Trainer:Prune:Steps</c>). Default 2.</summary>
    [Range(1, 20)]
    public int PruneSteps { get; set; } = 2;

    /// <summary>KD fine-tune epochs after each prune step (sets <c>Trainer:Prune:Epochs</c>). Default 3.</summary>
    [Range(1, 10_000)]
    public int FineTuneEpochs { get; set; } = 3;

    /// <summary>
    /// Also run quantization-aware training with KD (convnet students) into <c>3-quantize/qat/</c>; its int8 model is
    /// then the exported one, and the post-training one (always run, <c>3-quantize/ptq/</c>) is compared beside it.
    /// Default false (post-training quantization only).
    /// </summary>
    public bool Qat { get; set; }

    /// <summary>QAT epochs (sets <c>Trainer:Quantize:Qat:Epochs</c>). Default 1.</summary>
    [Range(1, 10_000)]
    public int QatEpochs { get; set; } = 1;

    /// <summary>Timed calls per batch size of every variant in the export stage (sets <c>Trainer:Export:Iterations</c>). Default 100.</summary>
    [Range(1, 1_000_000)]
    public int Iterations { get; set; } = 100;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SkipDistill && string.IsNullOrWhiteSpace(Checkpoint))
        {
            yield return new ValidationResult(
                $"{SectionName}:SkipDistill (--skip-distill) needs {SectionName}:Checkpoint (--checkpoint): the student checkpoint record to start from.",
                [nameof(Checkpoint)]);
        }
    }
}
