using System.ComponentModel.DataAnnotations;
using KdData.Pruning;

namespace KdData.Trainer;

/// <summary>
/// The <c>prune</c> stage, bound from <c>Trainer:Prune</c> (the KD fine-tune's loop settings — epochs per step, batch
/// size, optimizer, learning rate, warm-up, seed — are bound from the same section into
/// <see cref="Training.TrainingLoopOptions"/>; the shards, mix and objective are the distill stage's settings).
/// </summary>
public sealed class PruneOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Prune";

    /// <summary>Checkpoint record of the model to prune (a distilled student). Default <c>out/student/last.json</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Checkpoint { get; set; } = "out/student/last.json";

    /// <summary>
    /// Local folder: <c>step-N/</c> per step (<c>start</c> = the pruned model before its fine-tune, <c>last</c>/<c>best</c>
    /// and metrics.jsonl of the fine-tune) and <c>pruned.json</c>, the final model. Default <c>out/pruned</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string Output { get; set; } = "out/pruned";

    /// <summary>
    /// Target share of the input checkpoint's MACs per image, in (0, 1]. Default <c>null</c> = 0.5 unless
    /// <see cref="TargetParams"/> is set; setting both is an error.
    /// </summary>
    public double? TargetMacs { get; set; }

    /// <summary>Target share of the input checkpoint's parameters, in (0, 1]. Default <c>null</c> (the target is MACs).</summary>
    public double? TargetParams { get; set; }

    // Criterion and scope are text, parsed here: a bad enum value would fail inside the configuration binder with an
    // unhandled exception instead of a validation message naming the key (exit 2).

    /// <summary>Channel importance: <c>l1</c> (filter L1 norm) or <c>bn</c> (BatchNorm |gamma|). Default <c>l1</c>.</summary>
    public string Criterion { get; set; } = "l1";

    /// <summary><c>global</c> (one ranking over the network) or <c>layer</c> (the same share of every group). Default <c>global</c>.</summary>
    public string Scope { get; set; } = "global";

    /// <summary><see cref="Criterion"/> parsed (valid after validation).</summary>
    public PruningCriterion CriterionValue => ParseCriterion(Criterion) ?? PruningCriterion.L1;

    /// <summary><see cref="Scope"/> parsed (valid after validation).</summary>
    public PruningScope ScopeValue => ParseScope(Scope) ?? PruningScope.Global;

    /// <summary>
    /// Prune steps, each followed by a KD fine-tune; step k prunes to target^(k/steps) of the input's cost, so every
    /// step removes the same share of what is left. 1-20. Default 3.
    /// </summary>
    [Range(1, 20)]
    public int Steps { get; set; } = 3;

    /// <summary>As <see cref="DistillOptions.EvalTeacher"/>: teacher for the evaluation split's KL and agreement. Default <c>null</c> = the shards' teacher.</summary>
    public string? EvalTeacher { get; set; }

    /// <summary>Whether the target is a share of parameters (else of MACs).</summary>
    public bool TargetsParameters => TargetParams is not null;

    /// <summary>The target share in effect.</summary>
    public double Target => TargetParams ?? TargetMacs ?? 0.5;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (TargetMacs is not null && TargetParams is not null)
        {
            yield return new ValidationResult($"{SectionName}:TargetMacs and {SectionName}:TargetParams are both set; give one target.",
                [nameof(TargetMacs), nameof(TargetParams)]);
        }
        foreach (var (name, value) in new[] { (nameof(TargetMacs), TargetMacs), (nameof(TargetParams), TargetParams) })
        {
            if (value is { } v && !(v > 0 && v <= 1))
            {
                yield return new ValidationResult($"{SectionName}:{name} is {v}; the target is a share of the input model's cost in (0, 1].", [name]);
            }
        }
        if (ParseCriterion(Criterion) is null)
        {
            yield return new ValidationResult($"{SectionName}:Criterion is '{Criterion}'; use l1 or bn.", [nameof(Criterion)]);
        }
        if (ParseScope(Scope) is null)
        {
            yield return new ValidationResult($"{SectionName}:Scope is '{Scope}'; use global or layer.", [nameof(Scope)]);
        }
    }

    private static PruningCriterion? ParseCriterion(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "l1" => PruningCriterion.L1,
        "bn" => PruningCriterion.Bn,
        _ => null,
    };

    private static PruningScope? ParseScope(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "global" => PruningScope.Global,
        "layer" => PruningScope.Layer,
        _ => null,
    };
}
