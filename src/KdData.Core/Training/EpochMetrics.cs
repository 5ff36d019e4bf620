using System.Text.Json.Serialization;

namespace KdData.Training;

/// <summary>
/// One line of <c>metrics.jsonl</c>: the results of one completed epoch. Training loss is the optimized
/// objective (with label smoothing) averaged over the epoch's samples while the weights were changing;
/// evaluation loss is the plain cross-entropy of the epoch's final weights on the held-out data.
/// </summary>
public sealed record EpochMetrics
{
    /// <summary>1-based epoch number.</summary>
    [JsonPropertyName("epoch")]
    public required int Epoch { get; init; }

    [JsonPropertyName("train_loss")]
    public required double TrainLoss { get; init; }

    [JsonPropertyName("train_accuracy")]
    public required double TrainAccuracy { get; init; }

    [JsonPropertyName("eval_loss")]
    public required double EvalLoss { get; init; }

    [JsonPropertyName("eval_accuracy")]
    public required double EvalAccuracy { get; init; }

    /// <summary>Learning rate of the epoch's last step.</summary>
    [JsonPropertyName("lr")]
    public required double LearningRate { get; init; }

    /// <summary>Wall-clock seconds of the epoch, training and evaluation.</summary>
    [JsonPropertyName("seconds")]
    public required double Seconds { get; init; }

    /// <summary>Training samples per second (training steps only).</summary>
    [JsonPropertyName("images_per_second")]
    public required double ImagesPerSecond { get; init; }

    /// <summary>
    /// Process CPU milliseconds per training sample (training steps only: every thread, the loader's too). Time other
    /// processes take from this run is lost wall-clock time but not this process's CPU time, so a speed comparison on
    /// a shared machine can use both (a machine that slows down as a whole slows both).
    /// </summary>
    [JsonPropertyName("cpu_ms_per_image")]
    public required double CpuMsPerImage { get; init; }

    /// <summary>Mean cross-entropy part of the objective over the epoch's steps that had one; null when none did.</summary>
    [JsonPropertyName("ce")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? CrossEntropy { get; init; }

    /// <summary>Mean distillation (T^2-scaled KL) part of the objective; null when the objective has none.</summary>
    [JsonPropertyName("kd")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Distillation { get; init; }

    /// <summary>
    /// Mean over the epoch's steps of the share of unlabeled samples whose hard pseudo-label passed the confidence
    /// threshold (FixMatch's mask rate; <c>pseudo-ce</c> only), or null.
    /// </summary>
    [JsonPropertyName("pseudo_label_rate")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? PseudoLabelRate { get; init; }

    /// <summary>
    /// Mean weighted sum of the representation-KD terms (hint, attention, RKD, CRD) over the epoch's steps; null without
    /// any. Each term's own mean (unweighted) is in <see cref="RepresentationTerms"/>.
    /// </summary>
    [JsonPropertyName("rep")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Representation { get; init; }

    /// <summary>Mean unweighted value of each representation-KD term (<c>hint</c>, <c>attention</c>, <c>rkd</c>, <c>crd</c>); null without any.</summary>
    [JsonPropertyName("rep_terms")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? RepresentationTerms { get; init; }

    /// <summary>Mean KL(teacher || student) at T = 1 on the evaluation samples that have teacher logits; null without.</summary>
    [JsonPropertyName("teacher_kl")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TeacherKl { get; init; }

    /// <summary>Top-1 agreement of student and teacher on the evaluation samples that have teacher logits; null without.</summary>
    [JsonPropertyName("agreement")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Agreement { get; init; }

    /// <summary>Distillation temperature of the epoch (curriculum); null for objectives without a teacher.</summary>
    [JsonPropertyName("temperature")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Temperature { get; init; }

    /// <summary>KD weight alpha of the epoch (curriculum); null for objectives without a teacher.</summary>
    [JsonPropertyName("alpha")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Alpha { get; init; }
}
