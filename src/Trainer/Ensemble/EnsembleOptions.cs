using System.ComponentModel.DataAnnotations;

namespace KdData.Trainer;

/// <summary>The <c>ensemble</c> command: several checkpoints into one ensemble checkpoint. Bound from <c>Trainer:Ensemble</c>.</summary>
public sealed class EnsembleOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Ensemble";

    /// <summary>
    /// The member checkpoint records (local paths), comma-separated, two or more. They must predict the same classes
    /// in the same order and take the same preprocessing. Required; default none.
    /// </summary>
    public string? Members { get; set; }

    /// <summary>Folder for <c>ensemble.json</c> and <c>ensemble.safetensors</c>. Default <c>out/ensemble</c>.</summary>
    [Required]
    public string Output { get; set; } = "out/ensemble";

    /// <summary>The member paths, in order, blanks trimmed and empty entries dropped.</summary>
    public IReadOnlyList<string> MemberPaths =>
        (Members ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var paths = MemberPaths;
        if (paths.Count < 2)
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(Members)} (--members) names {paths.Count} checkpoint(s); an ensemble needs two or more, comma-separated.",
                [nameof(Members)]);
        }
        foreach (var duplicate in paths.GroupBy(p => Path.GetFullPath(p)).Where(g => g.Count() > 1))
        {
            yield return new ValidationResult(
                $"{SectionName}:{nameof(Members)} (--members) names '{duplicate.First()}' {duplicate.Count()} times; each member once.",
                [nameof(Members)]);
        }
    }
}
