using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Knowledge distillation (<c>kd</c>): Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a Neural Network"
/// (arXiv:1503.02531), extended to samples that have a teacher output but no label (the pseudo-labeled pool).
/// </summary>
/// <remarks>
/// <para>With student logits <c>s_i</c>, teacher logits <c>t_i</c>, temperature T, weight a (alpha),
/// <c>p^T = softmax(z / T)</c> and <c>KL(p_t^T || p_s^T) = sum_c p_t^T (log p_t^T - log p_s^T)</c>, the loss of
/// sample i is:</para>
/// <list type="bullet">
/// <item><description>label and teacher: <c>(1 - a) * CE(y_i, s_i) + a * T^2 * KL(p_t^T || p_s^T)</c>;</description></item>
/// <item><description>label, no teacher: <c>CE(y_i, s_i)</c>;</description></item>
/// <item><description>teacher, no label (pseudo-labeled): <c>w_i * T^2 * KL(p_t^T || p_s^T)</c>, with
/// <c>w_i = max_c softmax(t_i)_c</c> (the teacher's confidence at T = 1) when confidence weighting is on, else 1;</description></item>
/// <item><description>neither: 0.</description></item>
/// </list>
/// <para>The batch loss is <c>sum_i loss_i / N</c> over all N rows ("batchmean"), so every sample weighs the same
/// whichever terms apply to it. CE carries the label smoothing of <see cref="CrossEntropyObjective"/>. The T^2 factor
/// keeps the soft term's gradient magnitude independent of T (its gradient scales as 1/T^2), as the paper notes.</para>
/// <para>The KL is computed explicitly with <c>log_softmax</c> (TorchSharp's <c>kl_div</c> has no <c>batchmean</c> and
/// defaults to <c>log_target = true</c>). Teacher classes whose probability underflows to 0 contribute exactly 0 to
/// the value and to the gradient, so large negative teacher logits (the dense row rebuilt by
/// <c>SoftTarget.DenseLogits</c> puts unstored classes at <c>z_1 - 1e4</c> when their mass is 0) give no NaN.
/// Teacher rows of samples without a teacher output are ignored whatever they hold.</para>
/// <para>Logged parts: <see cref="ObjectiveLoss.CrossEntropy"/> is the mean CE over labeled rows,
/// <see cref="ObjectiveLoss.Distillation"/> the mean unweighted <c>T^2 * KL</c> over rows with a teacher, before alpha
/// and confidence weights (so it reads as a teacher-student divergence).</para>
/// <para>When <see cref="ObjectiveInputs.TeacherLogits"/> is null no row has a teacher and the loss is plain CE.</para>
/// <para>MixUp / CutMix (<see cref="ObjectiveInputs.Mix"/>, Zhang et al. 2018 / Yun et al. 2019): CE is against the mixed
/// hard target <c>lambda * onehot(y_i) + (1 - lambda) * onehot(y_j)</c> and the KD target <c>p_t^T</c> is the teacher's
/// distribution of the mixed image (online) or, from cached targets, <c>lambda * p_{t,i}^T + (1 - lambda) * p_{t,j}^T</c>
/// (<see cref="ObjectiveInputs.MixTeacherTargets"/>); the confidence weight is the max of that target at T = 1.</para>
/// </remarks>
public sealed class HintonDistillationObjective : ITrainingObjective
{
    /// <param name="labelSmoothing">Label smoothing of the CE term, in [0, 1).</param>
    /// <param name="confidenceWeighting">Weight the KD term of pseudo-labeled samples by the teacher's confidence.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="labelSmoothing"/> is outside [0, 1).</exception>
    public HintonDistillationObjective(double labelSmoothing = 0.0, bool confidenceWeighting = false)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        }

        LabelSmoothing = labelSmoothing;
        ConfidenceWeighting = confidenceWeighting;
    }

    /// <summary>Label smoothing of the CE term.</summary>
    public double LabelSmoothing { get; }

    /// <summary>Whether pseudo-labeled samples' KD term is weighted by the teacher's max probability at T = 1.</summary>
    public bool ConfidenceWeighting { get; }

    /// <inheritdoc />
    public string Name => TrainingObjectives.Distillation;

    /// <inheritdoc />
    public bool NeedsTeacher => true;

    /// <inheritdoc />
    public ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule)
    {
        LossTerms.Check(schedule);
        var (hasLabel, hasTeacher) = LossTerms.Masks(inputs);
        var student = inputs.StudentLogits;
        var crossEntropy = LossTerms.LabelCrossEntropy(student.log_softmax(1), inputs, LabelSmoothing);
        var ceSum = LossTerms.MaskedSum(crossEntropy, hasLabel);
        var labeled = LossTerms.Count(hasLabel);

        if (inputs.TeacherLogits is null)
        {
            var plain = HeldScalars.Div(ceSum, (double)student.shape[0]);
            var plainHost = LossTerms.ToHost(ceSum, labeled);
            return new ObjectiveLoss(plain, LossTerms.Mean(plainHost[0], plainHost[1]), double.NaN);
        }

        var temperature = schedule.Temperature;
        var alpha = schedule.Alpha;
        var logTarget = LossTerms.TeacherLogTarget(inputs, hasTeacher, temperature);
        var distillation = HeldScalars.Mul(LossTerms.KullbackLeiblerToTarget(student, logTarget, temperature), temperature * temperature);

        var unlabeledWeight = ConfidenceWeighting ? LossTerms.TeacherLogTarget(inputs, hasTeacher, 1.0).exp().max(1).values : ones_like(distillation);
        var perSample = where(
            hasLabel.logical_and(hasTeacher),
            HeldScalars.Add(HeldScalars.Mul(crossEntropy, 1 - alpha), HeldScalars.Mul(distillation, alpha)),
            where(hasLabel, crossEntropy, where(hasTeacher, unlabeledWeight * distillation, 0.0)));
        var loss = HeldScalars.Div(perSample.sum(), (double)student.shape[0]);

        var kdSum = LossTerms.MaskedSum(distillation, hasTeacher);
        var host = LossTerms.ToHost(ceSum, labeled, kdSum, LossTerms.Count(hasTeacher));
        return new ObjectiveLoss(loss, LossTerms.Mean(host[0], host[1]), LossTerms.Mean(host[2], host[3]));
    }
}
