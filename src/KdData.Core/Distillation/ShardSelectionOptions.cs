using System.ComponentModel.DataAnnotations;
using System.Globalization;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// Which committed soft-target shards the <c>distill</c> stage reads and which of their rows it keeps.
/// Bound from <c>Trainer:Distill:Shards</c>. The rules are applied at load time, on the stored
/// confidences, so changing a threshold never needs the teacher again; in order: latest commit per
/// image, then <see cref="MinConfidence"/> / <see cref="ClassThresholds"/>, then the caps.
/// A row's class is the teacher's arg-max (<c>predicted</c>), its confidence the stored softmax maximum at T = 1.
/// </summary>
public sealed class ShardSelectionOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Distill:Shards";

    /// <summary>The Labeler's default output, used when <see cref="Locations"/> is empty.</summary>
    public const string DefaultLocation = "file:out/labels/";

    /// <summary><see cref="ClassCap"/> value: no cap.</summary>
    public const string NoCap = "none";

    /// <summary><see cref="ClassCap"/> value: cap every class at the smallest non-empty class's count.</summary>
    public const string BalanceCap = "balance";

    /// <summary>
    /// Shard sets to read: each a teacher folder (<c>.../teacher=&lt;id&gt;/</c>) or a Labeler output root
    /// holding exactly one <c>teacher=*/</c> folder. Default: empty, meaning <see cref="DefaultLocation"/>
    /// (<c>file:out/labels/</c>, the Labeler's default output). An empty default instead of a one-element
    /// list because the configuration binder appends to a list's initial items rather than replacing them.
    /// </summary>
    public List<string> Locations { get; init; } = [];

    /// <summary>
    /// Where the shards' keys are relative to, for shards that do not record it (footer <c>kddata.input</c>,
    /// missing in shards of older Labelers). Default: null (such shards are refused, naming this key).
    /// </summary>
    public string? ImageRoot { get; set; }

    /// <summary>
    /// Where to fetch the images from, whatever the shards record: for a pool that moved (another folder,
    /// another container) since it was labeled. Default: null (use the footer's <c>kddata.input</c>).
    /// Images are identified by root and key, so with an override, equal keys recorded under different roots
    /// count as one image (the latest commit wins).
    /// </summary>
    public string? ImageRootOverride { get; set; }

    /// <summary>
    /// Also take rows from the <c>rejected/</c> shards (below the Labeler's threshold or over its cap), to be
    /// judged by this section's own thresholds instead. Default false: only what the Labeler accepted.
    /// </summary>
    public bool IncludeRejected { get; set; }

    /// <summary>Minimum confidence a row needs to be kept. Default 0: keep all.</summary>
    [Range(0.0, 1.0)]
    public double MinConfidence { get; set; }

    /// <summary>Per-class minimum confidence by class name or index, overriding <see cref="MinConfidence"/>. Default: none.</summary>
    public Dictionary<string, double> ClassThresholds { get; init; } = [];

    /// <summary>
    /// Cap on the rows kept per class (the most confident ones stay, as in Noisy Student's class balancing):
    /// <c>none</c> (default), <c>balance</c> (every class capped at the count of the smallest class that has
    /// any row left after the thresholds) or a number (every class capped at it).
    /// </summary>
    [RegularExpression("^(none|balance|[0-9]+)$", ErrorMessage = "Trainer:Distill:Shards:ClassCap must be 'none', 'balance' or a whole number.")]
    public string ClassCap { get; set; } = NoCap;

    /// <summary>Per-class caps by class name or index, overriding <see cref="ClassCap"/> for those classes. Default: none.</summary>
    public Dictionary<string, int> ClassCaps { get; init; } = [];

    /// <summary><see cref="Locations"/>, or the default location when it is empty.</summary>
    public IReadOnlyList<string> EffectiveLocations => Locations.Count > 0 ? Locations : [DefaultLocation];

    /// <summary>The fixed cap of <see cref="ClassCap"/> when it is a number; null for <c>none</c> and <c>balance</c>.</summary>
    public int? FixedCap => int.TryParse(ClassCap, NumberStyles.None, CultureInfo.InvariantCulture, out var cap) ? cap : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var location in Locations)
        {
            if (string.IsNullOrWhiteSpace(location))
            {
                yield return new ValidationResult($"{SectionName}:Locations has an empty entry.", [nameof(Locations)]);
                continue;
            }

            var error = StorageLocationAttribute.Check(location);
            if (error is not null)
            {
                yield return new ValidationResult($"{SectionName}:Locations: {error}", [nameof(Locations)]);
            }
        }

        foreach (var (name, value) in ClassThresholds)
        {
            if (value is < 0 or > 1)
            {
                yield return new ValidationResult($"{SectionName}:ClassThresholds:{name} is {value}; a confidence threshold must be in [0, 1].", [nameof(ClassThresholds)]);
            }
        }

        foreach (var (name, value) in ClassCaps)
        {
            if (value < 0)
            {
                yield return new ValidationResult($"{SectionName}:ClassCaps:{name} is {value}; a cap must be 0 or more.", [nameof(ClassCaps)]);
            }
        }

        if (ClassCap is not (NoCap or BalanceCap) && FixedCap is null)
        {
            yield return new ValidationResult($"{SectionName}:ClassCap is '{ClassCap}'; use 'none', 'balance' or a whole number.", [nameof(ClassCap)]);
        }
    }
}
