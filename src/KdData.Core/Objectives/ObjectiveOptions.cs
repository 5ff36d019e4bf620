using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>
/// Which loss a training stage minimises and its settings, bound from <c>Trainer:Objective</c>; the temperature and
/// alpha curriculum is the nested <c>Trainer:Objective:Curriculum</c> section (<see cref="Curriculum"/>).
/// <see cref="TrainingObjectives.Create"/> builds the objective.
/// </summary>
public sealed class ObjectiveOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Objective";

    /// <summary>
    /// <c>ce</c>, <c>kd</c> (default) or <c>pseudo-ce</c>; see <see cref="TrainingObjectives"/>. The default is the
    /// distill stage's; the teacher stage trains with <c>ce</c> and its own <c>Trainer:Teacher:LabelSmoothing</c>.
    /// </summary>
    public string Name { get; set; } = TrainingObjectives.Distillation;

    /// <summary>
    /// Label smoothing of the cross-entropy on labeled samples, in [0, 1). Default 0: in <c>kd</c> the teacher's soft
    /// targets already spread probability over the wrong classes, and in a measured, class-dependent way; adding a
    /// uniform spread on top would pull the student towards a flatter distribution than the teacher's, and the hard
    /// term is the one exact signal the labeled rows add. Set 0.1 for a <c>ce</c> baseline trained like the teacher
    /// (<c>Trainer:Teacher:LabelSmoothing</c> defaults to 0.1).
    /// </summary>
    [Range(0.0, 0.999)]
    public double LabelSmoothing { get; set; }

    /// <summary>
    /// <c>kd</c> only: weight each pseudo-labeled sample's KD term by the teacher's confidence (max softmax at T = 1),
    /// so uncertain teacher outputs pull less. Default false (every soft target counts fully; the load-time
    /// thresholds already drop the least confident rows).
    /// </summary>
    public bool ConfidenceWeighting { get; set; }

    /// <summary><c>pseudo-ce</c> only: minimum teacher confidence (T = 1) for a hard pseudo-label, in [0, 1]. Default 0.95 (FixMatch's tau).</summary>
    [Range(0.0, 1.0)]
    public double PseudoLabelThreshold { get; set; } = 0.95;

    /// <summary><c>pseudo-ce</c> only: weight lambda_u of the unlabeled part, &gt;= 0. Default 1 (FixMatch's value).</summary>
    [Range(0.0, 1000.0)]
    public double UnlabeledWeight { get; set; } = 1.0;

    /// <summary>Temperature and alpha per epoch (<c>Trainer:Objective:Curriculum</c>); read by <c>kd</c>.</summary>
    [Required]
    public DistillationCurriculumOptions Curriculum { get; set; } = new();

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TrainingObjectives.Names.Contains(Name, StringComparer.Ordinal))
        {
            yield return new ValidationResult(UnknownNameMessage(Name), [nameof(Name)]);
        }

        // DataAnnotations does not descend into nested objects; validate the curriculum here and name its keys in full.
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(Curriculum, new ValidationContext(Curriculum), results, validateAllProperties: true);
        foreach (var result in results)
        {
            yield return new ValidationResult(
                result.ErrorMessage,
                [.. result.MemberNames.Select(member => $"{nameof(Curriculum)}.{member}")]);
        }
    }

    internal static string UnknownNameMessage(string? name) =>
        $"{SectionName}:{nameof(Name)} '{name}' is not a known objective; valid names: {string.Join(", ", TrainingObjectives.Names)}.";
}
