namespace KdData.Objectives;

/// <summary>
/// Supervised cross-entropy with label smoothing (<c>ce</c>): the teacher stage's objective, and the
/// "student from scratch" baseline.
/// </summary>
/// <remarks>
/// <para>Per labeled sample i with C classes, smoothing <c>eps</c> and <c>log p_i = log_softmax(s_i)</c>:
/// <c>CE_i = (1 - eps) * (-log p_{i,y_i}) + eps * (1/C) * sum_c (-log p_{i,c})</c>, i.e. the cross-entropy against the
/// target <c>(1 - eps) * onehot(y_i) + eps / C</c> (Szegedy et al. 2016, "Rethinking the Inception Architecture for
/// Computer Vision", section 7). Batch loss: <c>sum_{i labeled} CE_i / #labeled</c>. Samples without a label
/// (<see cref="ObjectiveInputs.NoLabel"/>, pseudo-labeled pool images) are ignored, so with every row labeled this
/// equals <c>nn.functional.cross_entropy(s, y, label_smoothing: eps)</c>. A batch with no labeled row gives a zero loss
/// that still depends on the logits (backward works, gradients are 0) and <see cref="ObjectiveLoss.CrossEntropy"/> NaN.</para>
/// <para>The temperature and alpha of the schedule are ignored; teacher logits, if any, are not read. A mixed batch
/// (<see cref="ObjectiveInputs.Mix"/>, MixUp / CutMix) is trained against the mixed hard targets.</para>
/// </remarks>
public sealed class CrossEntropyObjective : ITrainingObjective
{
    /// <param name="labelSmoothing">eps in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1).</exception>
    public CrossEntropyObjective(double labelSmoothing = 0.0)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        }

        LabelSmoothing = labelSmoothing;
    }

    /// <summary>eps: weight of the uniform distribution in the CE target.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public string Name => TrainingObjectives.CrossEntropy;

    /// <inheritdoc />
    public bool NeedsTeacher => false;

    /// <inheritdoc />
    public ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule)
    {
        var (hasLabel, _) = LossTerms.Masks(inputs);
        var logProbabilities = inputs.StudentLogits.log_softmax(1);
        var crossEntropy = LossTerms.LabelCrossEntropy(logProbabilities, inputs, LabelSmoothing);
        var sum = LossTerms.MaskedSum(crossEntropy, hasLabel);
        var count = LossTerms.Count(hasLabel);
        var loss = sum / HeldScalars.ClampMin(count, 1);
        var host = LossTerms.ToHost(sum, count);
        return new ObjectiveLoss(loss, LossTerms.Mean(host[0], host[1]), double.NaN);
    }
}
