using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>
/// How the distillation temperature T and the KD weight alpha move over the epochs, bound from
/// <c>Trainer:Objective:Curriculum</c> (see <see cref="DistillationCurriculum"/>).
/// </summary>
/// <remarks>
/// Defaults anneal from soft to sharp: T 4 -&gt; 2 and alpha 0.9 -&gt; 0.5 along a cosine. Early on a high T exposes the
/// teacher's "dark knowledge" (the relative sizes of the wrong classes) and a high alpha leans on it while the student
/// is far from both teacher and labels; later a lower T concentrates on the teacher's top classes and a lower alpha
/// gives the ground truth more say on the labeled rows, where the student should end up beating the teacher's
/// mistakes. T = 4 with a KD weight of 0.9 is the usual CIFAR setting (e.g. RepDistiller's KD baseline); a cosine
/// keeps the early phase long and eases into the end values. Pseudo-labeled rows always get the KD term at full
/// weight; alpha only splits labeled rows. These are starting points, not tuned values: the benchmark may override them.
/// </remarks>
public sealed class DistillationCurriculumOptions : IValidatableObject
{
    /// <summary>Shape name: the start values throughout (the end values are ignored).</summary>
    public const string Constant = "constant";

    /// <summary>Shape name: a straight line from the start values at epoch 1 to the end values at the last epoch.</summary>
    public const string Linear = "linear";

    /// <summary>Shape name: a half cosine from the start values at epoch 1 to the end values at the last epoch.</summary>
    public const string Cosine = "cosine";

    /// <summary>Temperature at epoch 1, &gt; 0. Default 4.</summary>
    [Range(1e-3, 1000.0)]
    public double TemperatureStart { get; set; } = 4.0;

    /// <summary>Temperature at the last epoch, &gt; 0. Default 2.</summary>
    [Range(1e-3, 1000.0)]
    public double TemperatureEnd { get; set; } = 2.0;

    /// <summary>Alpha (KD weight on labeled samples) at epoch 1, in [0, 1]. Default 0.9.</summary>
    [Range(0.0, 1.0)]
    public double AlphaStart { get; set; } = 0.9;

    /// <summary>Alpha at the last epoch, in [0, 1]. Default 0.5.</summary>
    [Range(0.0, 1.0)]
    public double AlphaEnd { get; set; } = 0.5;

    /// <summary><c>cosine</c> (default), <c>linear</c> or <c>constant</c>.</summary>
    [Required]
    public string Shape { get; set; } = Cosine;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Shape is not (Constant or Linear or Cosine))
        {
            yield return new ValidationResult(
                $"{ObjectiveOptions.SectionName}:Curriculum:{nameof(Shape)} '{Shape}' is not a known shape; valid shapes: {Cosine}, {Linear}, {Constant}.",
                [nameof(Shape)]);
        }
    }
}
