using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>
/// The objectives selectable by <c>Trainer:Objective:Name</c>, and the factory that builds one from
/// <see cref="ObjectiveOptions"/>. A new loss is a new file in this folder plus one line here.
/// </summary>
public static class TrainingObjectives
{
    /// <summary><see cref="CrossEntropyObjective"/>.</summary>
    public const string CrossEntropy = "ce";

    /// <summary><see cref="HintonDistillationObjective"/>.</summary>
    public const string Distillation = "kd";

    /// <summary><see cref="HardPseudoLabelObjective"/>.</summary>
    public const string HardPseudoLabel = "pseudo-ce";

    /// <summary>Every valid value of <c>Trainer:Objective:Name</c> (case-sensitive).</summary>
    public static IReadOnlyList<string> Names { get; } = [CrossEntropy, Distillation, HardPseudoLabel];

    /// <summary>Builds the objective <paramref name="options"/> names, with its settings.</summary>
    /// <exception cref="ValidationException">The options are invalid, e.g. an unknown name (the message names
    /// <c>Trainer:Objective:Name</c> and the valid names).</exception>
    public static ITrainingObjective Create(ObjectiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        return options.Name switch
        {
            CrossEntropy => new CrossEntropyObjective(options.LabelSmoothing),
            Distillation => new HintonDistillationObjective(options.LabelSmoothing, options.ConfidenceWeighting),
            HardPseudoLabel => new HardPseudoLabelObjective(options.PseudoLabelThreshold, options.UnlabeledWeight, options.LabelSmoothing),
            _ => throw new ValidationException(ObjectiveOptions.UnknownNameMessage(options.Name)),
        };
    }
}
