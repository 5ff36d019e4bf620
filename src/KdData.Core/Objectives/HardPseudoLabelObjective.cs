namespace KdData.Objectives;

/// <summary>
/// Hard pseudo-labels with a confidence threshold (<c>pseudo-ce</c>), as FixMatch trains on unlabeled data: Sohn et
/// al. 2020, "FixMatch: Simplifying Semi-Supervised Learning with Consistency and Confidence" (arXiv:2001.07685),
/// equations 2-4, with the teacher's output in place of the weakly augmented view's prediction. The comparison point
/// for <see cref="HintonDistillationObjective"/>: the same teacher, but only its arg-max and only where it is sure.
/// </summary>
/// <remarks>
/// <para>Labeled rows (label &gt;= 0): <c>l_s = (1 / B) * sum_{labeled} CE(y_i, s_i)</c> with the configured label
/// smoothing, B = number of labeled rows. Unlabeled rows (label -1), with <c>q_i = softmax(t_i)</c> at T = 1 and
/// <c>yhat_i = argmax q_i</c>: <c>l_u = (1 / U) * sum_{unlabeled} 1[max q_i &gt;= tau] * CE(yhat_i, s_i)</c>
/// (no smoothing), U = number of unlabeled rows in the batch; rows under the threshold, or without a teacher output,
/// count in U as zeros, which is FixMatch's normalisation (its loss shrinks early on, when few rows pass, instead of
/// being re-averaged over the few that do). Batch loss: <c>l_s + lambda_u * l_u</c>; a part with no rows is 0.</para>
/// <para>The teacher is not read for labeled rows, and the schedule's T and alpha are ignored (FixMatch thresholds the
/// plain softmax).</para>
/// <para>Logged parts: <see cref="ObjectiveLoss.CrossEntropy"/> = <c>l_s</c>, <see cref="ObjectiveLoss.Distillation"/>
/// = <c>l_u</c> (before lambda_u), <see cref="ObjectiveLoss.PseudoLabelRate"/> = the fraction of unlabeled rows above
/// the threshold (FixMatch's "mask rate").</para>
/// </remarks>
public sealed class HardPseudoLabelObjective : ITrainingObjective
{
    /// <param name="threshold">tau in [0, 1]: minimum teacher probability (T = 1) of the arg-max for a pseudo-label to count.</param>
    /// <param name="unlabeledWeight">lambda_u &gt;= 0: weight of the unlabeled part.</param>
    /// <param name="labelSmoothing">Label smoothing of the labeled CE, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public HardPseudoLabelObjective(double threshold = 0.95, double unlabeledWeight = 1.0, double labelSmoothing = 0.0)
    {
        if (!(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The pseudo-label threshold must be in [0, 1].");
        }

        if (!(unlabeledWeight >= 0) || double.IsInfinity(unlabeledWeight))
        {
            throw new ArgumentOutOfRangeException(nameof(unlabeledWeight), unlabeledWeight, "The unlabeled weight must be a non-negative finite number.");
        }

        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        }

        Threshold = threshold;
        UnlabeledWeight = unlabeledWeight;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>tau: minimum teacher confidence of a pseudo-label.</summary>
    public double Threshold { get; }

    /// <summary>lambda_u: weight of the unlabeled part.</summary>
    public double UnlabeledWeight { get; }

    /// <summary>Label smoothing of the labeled CE (pseudo-labels are never smoothed).</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public string Name => TrainingObjectives.HardPseudoLabel;

    /// <inheritdoc />
    public bool NeedsTeacher => true;

    /// <inheritdoc />
    public ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule)
    {
        if (inputs.Mix is not null)
        {
            // A thresholded arg-max of a mixed image has no agreed meaning (which half's class?); not supported.
            throw new ArgumentException("pseudo-ce does not train on mixed (MixUp / CutMix) batches.", nameof(inputs));
        }
        var (hasLabel, hasTeacher) = LossTerms.Masks(inputs);
        var logProbabilities = inputs.StudentLogits.log_softmax(1);
        var labeledSum = LossTerms.MaskedSum(LossTerms.CrossEntropy(logProbabilities, inputs.Labels, LabelSmoothing), hasLabel);
        var labeled = LossTerms.Count(hasLabel);
        var unlabeledMask = hasLabel.logical_not();
        var unlabeled = LossTerms.Count(unlabeledMask);
        var labeledMean = labeledSum / HeldScalars.ClampMin(labeled, 1);

        if (inputs.TeacherLogits is null)
        {
            var plainHost = LossTerms.ToHost(labeledSum, labeled, unlabeled);
            return new ObjectiveLoss(labeledMean, LossTerms.Mean(plainHost[0], plainHost[1]), LossTerms.Mean(0, plainHost[2]))
            {
                PseudoLabelRate = LossTerms.Mean(0, plainHost[2]),
            };
        }

        var (confidence, pseudoLabels) = LossTerms.TeacherLogits(inputs, hasTeacher).softmax(1).max(1);
        var kept = unlabeledMask.logical_and(hasTeacher).logical_and(HeldScalars.Ge(confidence, Threshold));
        var pseudoSum = LossTerms.MaskedSum(LossTerms.CrossEntropy(logProbabilities, pseudoLabels, 0.0), kept);
        var keptCount = LossTerms.Count(kept);
        var loss = HeldScalars.Add(labeledMean, HeldScalars.Mul(pseudoSum / HeldScalars.ClampMin(unlabeled, 1), UnlabeledWeight));

        var host = LossTerms.ToHost(labeledSum, labeled, pseudoSum, unlabeled, keptCount);
        return new ObjectiveLoss(loss, LossTerms.Mean(host[0], host[1]), LossTerms.Mean(host[2], host[3]))
        {
            PseudoLabelRate = LossTerms.Mean(host[4], host[3]),
        };
    }
}
