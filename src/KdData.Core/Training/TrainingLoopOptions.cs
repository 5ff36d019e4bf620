using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace KdData.Training;

/// <summary>
/// Settings of the training loop, bound from <c>Trainer:Teacher</c> for the Trainer's <c>teacher</c> stage and from the
/// stage's own section for the others (<c>Trainer:Distill</c>, <c>Trainer:Prune</c>, <c>Trainer:Quantize:Qat</c>). The messages
/// name no section: the host's validator (<see cref="Hosting.SettingMessages"/>) puts in the key of the section bound.
/// The learning rate follows <see cref="CosineWarmupSchedule"/>: linear warm-up, then cosine decay to
/// <see cref="MinLearningRate"/> at the last step.
/// </summary>
public sealed class TrainingLoopOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Teacher";

    /// <summary>Optimizer name for AdamW (decoupled weight decay).</summary>
    public const string AdamW = "adamw";

    /// <summary>Optimizer name for SGD with Nesterov momentum.</summary>
    public const string Sgd = "sgd";

    /// <summary>Number of passes over the training data. Default 10.</summary>
    [Range(1, 100_000)]
    public int Epochs { get; set; } = 10;

    /// <summary>
    /// Samples per training batch. Default 128. The data source does the batching; the host builds it with this
    /// value (the trainer itself consumes whatever batches it is given).
    /// </summary>
    [Range(1, 1_000_000)]
    public int BatchSize { get; set; } = 128;

    /// <summary><c>adamw</c> (default) or <c>sgd</c> (momentum <see cref="Momentum"/>, Nesterov).</summary>
    [Required]
    [RegularExpression("^(adamw|sgd)$", ErrorMessage = "{0} must be 'adamw' or 'sgd'.")]
    public string Optimizer { get; set; } = AdamW;

    /// <summary>
    /// Peak learning rate (reached at the end of warm-up). Default <c>null</c> = 1e-3 for adamw, 0.1 for sgd.
    /// </summary>
    [Range(1e-9, 100.0)]
    public double? LearningRate { get; set; }

    /// <summary>Learning rate at the last step of the cosine decay. Default 0; must not exceed the peak.</summary>
    [Range(0.0, 100.0)]
    public double MinLearningRate { get; set; }

    /// <summary>Weight decay (decoupled for adamw, L2 for sgd), applied to all parameters. Default 5e-4.</summary>
    [Range(0.0, 1.0)]
    public double WeightDecay { get; set; } = 5e-4;

    /// <summary>SGD momentum (Nesterov). Ignored by adamw. Default 0.9.</summary>
    [Range(0.0, 0.999)]
    public double Momentum { get; set; } = 0.9;

    /// <summary>
    /// Length of the linear warm-up in epochs; may be fractional. Default 1. Ignored when <see cref="WarmupSteps"/> is set.
    /// </summary>
    [Range(0.0, 100_000.0)]
    public double WarmupEpochs { get; set; } = 1;

    /// <summary>Length of the warm-up in optimizer steps; overrides <see cref="WarmupEpochs"/>. Default <c>null</c>.</summary>
    [Range(0, int.MaxValue)]
    public int? WarmupSteps { get; set; }

    /// <summary>Label smoothing of the training cross-entropy, in [0, 1). Default 0.1. Evaluation loss is unsmoothed.</summary>
    [Range(0.0, 0.999)]
    public double LabelSmoothing { get; set; } = 0.1;

    /// <summary>
    /// Decay of an exponential moving average of the weights (<see cref="WeightAverage"/>), updated after every step;
    /// 0 = none (default). FixMatch evaluates such an average with 0.999. When set, the average is what is evaluated
    /// every epoch and what the <c>last</c> and <c>best</c> checkpoints hold (so every later stage gets it); the
    /// weights being trained are saved beside <c>last</c> (<c>training.raw_weights</c>) for a resume, and a
    /// self-teaching run still labels with them, as FixMatch does.
    /// </summary>
    [Range(0.0, 0.99999)]
    public double EmaDecay { get; set; }

    /// <summary>
    /// In a self-teaching run (FixMatch), label each batch with the moving average of <see cref="EmaDecay"/> instead of
    /// the weights being trained: a mean teacher (Tarvainen and Valpola 2017, arXiv:1703.01780), steadier than the
    /// model it teaches, so one step's mistakes feed back into its targets less. Default false (FixMatch's own choice).
    /// Needs <see cref="EmaDecay"/> &gt; 0 and a self-teaching run.
    /// </summary>
    public bool EmaTeacher { get; set; }

    /// <summary>
    /// In a self-teaching run, the momentum of distribution alignment (<see cref="KdData.Training.DistributionAlignment"/>,
    /// ReMixMatch's): each pool row's guess is scaled by the labeled classes' frequency over the model's average
    /// prediction, both moving averages with this momentum, before the objective thresholds it; 0 = off (default,
    /// FixMatch's own choice). 0.999 is the usual value. Needs a self-teaching run.
    /// </summary>
    [Range(0.0, 0.99999)]
    public double DistributionAlignment { get; set; }

    /// <summary>
    /// Seed of weight initialization and of per-epoch randomness (the torch generator is reseeded with
    /// <c>Seed + epoch</c> at the start of every epoch, so a resumed epoch draws the same numbers). Default 42.
    /// </summary>
    public int Seed { get; set; } = 42;

    /// <summary>The peak learning rate in effect: <see cref="LearningRate"/> or the optimizer's default.</summary>
    public double EffectiveLearningRate =>
        LearningRate ?? (string.Equals(Optimizer, Sgd, StringComparison.Ordinal) ? 0.1 : 1e-3);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MinLearningRate > EffectiveLearningRate)
        {
            yield return new ValidationResult(
                string.Create(CultureInfo.InvariantCulture, $"{nameof(MinLearningRate)} ({MinLearningRate}) must not exceed the learning rate ({EffectiveLearningRate})."),
                [nameof(MinLearningRate)]);
        }
        if (EmaTeacher && EmaDecay <= 0)
        {
            yield return new ValidationResult($"{nameof(EmaTeacher)} labels with the moving average of the weights: set {nameof(EmaDecay)} (e.g. 0.999) as well.", [nameof(EmaTeacher)]);
        }
    }
}
