using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>
/// The representation-KD terms added to the objective's loss, each with its own weight, bound from
/// <c>Trainer:Objective</c> (subsections <c>Hint</c>, <c>Attention</c>, <c>Rkd</c>, <c>Crd</c>). All are off by default;
/// any of them needs the online teacher (<c>Trainer:Distill:Teacher</c>), whose features they read.
/// </summary>
public sealed class RepresentationOptions : IValidatableObject
{
    /// <summary>FitNets hints.</summary>
    [Required]
    public HintOptions Hint { get; set; } = new();

    /// <summary>Attention transfer.</summary>
    [Required]
    public AttentionTransferOptions Attention { get; set; } = new();

    /// <summary>Relational KD.</summary>
    [Required]
    public RkdOptions Rkd { get; set; } = new();

    /// <summary>Contrastive representation distillation.</summary>
    [Required]
    public CrdOptions Crd { get; set; } = new();

    /// <summary>True when any term is enabled.</summary>
    public bool AnyEnabled => Hint.Enabled || Attention.Enabled || Rkd.Enabled || Crd.Enabled;

    /// <summary>The enabled terms' names, in a fixed order (<c>hint</c>, <c>attention</c>, <c>rkd</c>, <c>crd</c>).</summary>
    public IReadOnlyList<string> EnabledTerms =>
        [.. new[] { ("hint", Hint.Enabled), ("attention", Attention.Enabled), ("rkd", Rkd.Enabled), ("crd", Crd.Enabled) }.Where(t => t.Item2).Select(t => t.Item1)];

    /// <summary>Splits a comma-separated list of module paths (entries trimmed, empty entries dropped).</summary>
    public static IReadOnlyList<string> SplitLayers(string layers) =>
        [.. (layers ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // DataAnnotations does not descend into nested objects: validate each section and name its keys in full.
        foreach (var (name, section) in new (string, object)[] { (nameof(Hint), Hint), (nameof(Attention), Attention), (nameof(Rkd), Rkd), (nameof(Crd), Crd) })
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(section, new ValidationContext(section), results, validateAllProperties: true);
            foreach (var result in results)
            {
                yield return new ValidationResult(result.ErrorMessage, [.. result.MemberNames.Select(member => $"{name}.{member}")]);
            }
        }

        var student = SplitLayers(Attention.StudentLayers);
        var teacher = SplitLayers(Attention.TeacherLayers);
        if (student.Count == 0 || student.Count != teacher.Count)
        {
            yield return new ValidationResult(
                $"Trainer:Objective:Attention:StudentLayers and TeacherLayers must name the same number (at least one) of module paths; got {student.Count} and {teacher.Count}.",
                [$"{nameof(Attention)}.{nameof(AttentionTransferOptions.StudentLayers)}"]);
        }
    }
}
