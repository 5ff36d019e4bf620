using KdData.Objectives;

namespace KdData.Training;

/// <summary>
/// Running sums of one epoch of <see cref="TrainingLoop"/>, over its training steps or over its evaluation batches,
/// from which the epoch's <see cref="EpochMetrics"/> line is made. Kept apart from the loop so the loop reads as the
/// order of things (step, evaluate, record, save) rather than as bookkeeping.
/// </summary>
internal sealed class EpochTotals
{
    /// <summary>Steps (or evaluation batches) taken; in training, also those skipped when an interrupted epoch is replayed.</summary>
    public int Steps { get; set; }

    public long Samples { get; private set; }

    public double LossSum { get; private set; }

    public long Correct { get; private set; }

    public long LabeledSamples { get; private set; }

    public double CrossEntropySum { get; private set; }

    public int CrossEntropySteps { get; private set; }

    public double DistillationSum { get; private set; }

    public int DistillationSteps { get; private set; }

    public double PseudoLabelRateSum { get; private set; }

    public int PseudoLabelRateSteps { get; private set; }

    public double RepresentationSum { get; private set; }

    public int RepresentationSteps { get; private set; }

    public Dictionary<string, double> RepresentationTermSums { get; } = new(StringComparer.Ordinal);

    public long TeacherSamples { get; private set; }

    public double TeacherKlSum { get; private set; }

    public long Agreements { get; private set; }

    public double LastLearningRate { get; set; }

    /// <summary>Seconds spent training up to the last step.</summary>
    public double Seconds { get; set; }

    /// <summary>Process CPU seconds (all threads) spent training up to the last step.</summary>
    public double CpuSeconds { get; set; }

    /// <summary>Training stopped (cancelled) before the epoch's last step.</summary>
    public bool Interrupted { get; set; }

    /// <summary>Adds a training step over <paramref name="samples"/> samples.</summary>
    public void Add(TrainingStepResult step, int samples)
    {
        Steps++;
        Samples += samples;
        LossSum += step.Loss * samples;
        Correct += step.Correct;
        LabeledSamples += step.Labeled;
        if (double.IsFinite(step.CrossEntropy))
        {
            CrossEntropySum += step.CrossEntropy;
            CrossEntropySteps++;
        }
        if (double.IsFinite(step.Distillation))
        {
            DistillationSum += step.Distillation;
            DistillationSteps++;
        }
        if (double.IsFinite(step.PseudoLabelRate))
        {
            PseudoLabelRateSum += step.PseudoLabelRate;
            PseudoLabelRateSteps++;
        }
        if (step.RepresentationTerms is { } terms)
        {
            RepresentationSum += step.Representation;
            RepresentationSteps++;
            foreach (var (name, value) in terms)
            {
                RepresentationTermSums[name] = RepresentationTermSums.GetValueOrDefault(name) + value;
            }
        }
    }

    /// <summary>Adds an evaluation batch of <paramref name="samples"/> samples.</summary>
    public void Add(EvaluationStepResult step, int samples)
    {
        Steps++;
        Samples += samples;
        LossSum += step.LossSum;
        Correct += step.Correct;
        TeacherSamples += step.TeacherSamples;
        TeacherKlSum += step.TeacherKlSum;
        Agreements += step.Agreements;
    }

    /// <summary>The metrics line of an epoch whose training added up to these totals and whose evaluation to <paramref name="eval"/>.</summary>
    /// <param name="eval">The evaluation's totals; at least one sample.</param>
    /// <param name="epoch">1-based epoch number.</param>
    /// <param name="seconds">Wall time of the epoch, training and evaluation.</param>
    /// <param name="distillation">The epoch's temperature and alpha when the objective uses a teacher; null otherwise.</param>
    public EpochMetrics ToMetrics(EpochTotals eval, int epoch, double seconds, ObjectiveSchedule? distillation) => new()
    {
        Epoch = epoch,
        TrainLoss = LossSum / Math.Max(Samples, 1),
        TrainAccuracy = LabeledSamples > 0 ? (double)Correct / LabeledSamples : double.NaN,
        EvalLoss = eval.LossSum / eval.Samples,
        EvalAccuracy = (double)eval.Correct / eval.Samples,
        LearningRate = LastLearningRate,
        Seconds = seconds,
        ImagesPerSecond = Samples / Math.Max(Seconds, 1e-9),
        CpuMsPerImage = CpuSeconds * 1000 / Math.Max(Samples, 1),
        CrossEntropy = CrossEntropySteps > 0 ? CrossEntropySum / CrossEntropySteps : null,
        Distillation = DistillationSteps > 0 ? DistillationSum / DistillationSteps : null,
        PseudoLabelRate = PseudoLabelRateSteps > 0 ? PseudoLabelRateSum / PseudoLabelRateSteps : null,
        Representation = RepresentationSteps > 0 ? RepresentationSum / RepresentationSteps : null,
        RepresentationTerms = RepresentationSteps > 0
            ? RepresentationTermSums.ToDictionary(t => t.Key, t => t.Value / RepresentationSteps, StringComparer.Ordinal)
            : null,
        TeacherKl = eval.TeacherSamples > 0 ? eval.TeacherKlSum / eval.TeacherSamples : null,
        Agreement = eval.TeacherSamples > 0 ? (double)eval.Agreements / eval.TeacherSamples : null,
        Temperature = distillation?.Temperature,
        Alpha = distillation?.Alpha,
    };
}
