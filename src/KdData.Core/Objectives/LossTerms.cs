using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Per-sample terms shared by the objectives, written out with <c>log_softmax</c> instead of TorchSharp's fused losses
/// so that each sample's term can be masked and weighted: <c>cross_entropy</c> reduces over the batch before a
/// mask could apply, and <c>kl_div</c> has no <c>batchmean</c> and defaults to <c>log_target = true</c>.
/// </summary>
internal static class LossTerms
{
    /// <summary>
    /// Checks shapes and dtypes (no device sync) and returns the masks every objective needs: which rows have a label,
    /// which have a teacher output.
    /// </summary>
    public static (Tensor HasLabel, Tensor HasTeacher) Masks(ObjectiveInputs inputs)
    {
        var (hasLabel, hasTeacher) = RowMasks(inputs);
        if (inputs.Mix is not { } mix)
        {
            return (hasLabel, hasTeacher);
        }

        var n = inputs.StudentLogits.shape[0];
        if (mix.Partner.dtype != ScalarType.Int64 || mix.Partner.dim() != 1 || mix.Partner.shape[0] != n)
        {
            throw new ArgumentException($"Mix partners must be int64 of shape ({n}); got {mix.Partner.dtype} ({string.Join(", ", mix.Partner.shape)}).", nameof(inputs));
        }
        if (!(mix.Lambda >= 0 && mix.Lambda <= 1))
        {
            throw new ArgumentException($"The mixing weight {mix.Lambda} is outside [0, 1].", nameof(inputs));
        }

        // A mixed row carries a target only when both of its samples do.
        hasLabel = hasLabel.logical_and(hasLabel.index_select(0, mix.Partner));
        if (inputs.MixTeacherTargets)
        {
            hasTeacher = hasTeacher.logical_and(hasTeacher.index_select(0, mix.Partner));
        }
        return (hasLabel, hasTeacher);
    }

    private static (Tensor HasLabel, Tensor HasTeacher) RowMasks(ObjectiveInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var logits = inputs.StudentLogits;
        if (logits.dim() != 2)
        {
            throw new ArgumentException($"Student logits must be (N, C); got ({string.Join(", ", logits.shape)}).", nameof(inputs));
        }

        var n = logits.shape[0];
        if (n == 0)
        {
            throw new ArgumentException("The batch is empty.", nameof(inputs));
        }

        if (inputs.Labels.dtype != ScalarType.Int64 || inputs.Labels.dim() != 1 || inputs.Labels.shape[0] != n)
        {
            throw new ArgumentException($"Labels must be int64 of shape ({n}); got {inputs.Labels.dtype} ({string.Join(", ", inputs.Labels.shape)}).", nameof(inputs));
        }

        var hasLabel = HeldScalars.Ge(inputs.Labels, 0);
        if (inputs.TeacherLogits is not { } teacher)
        {
            return (hasLabel, zeros(n, dtype: ScalarType.Bool, device: logits.device));
        }

        if (!teacher.shape.SequenceEqual(logits.shape))
        {
            throw new ArgumentException(
                $"Teacher logits ({string.Join(", ", teacher.shape)}) must have the student's shape ({string.Join(", ", logits.shape)}).", nameof(inputs));
        }

        if (inputs.HasTeacher is not { } hasTeacher)
        {
            return (hasLabel, ones(n, dtype: ScalarType.Bool, device: logits.device));
        }

        if (hasTeacher.dtype != ScalarType.Bool || hasTeacher.dim() != 1 || hasTeacher.shape[0] != n)
        {
            throw new ArgumentException($"HasTeacher must be bool of shape ({n}); got {hasTeacher.dtype} ({string.Join(", ", hasTeacher.shape)}).", nameof(inputs));
        }

        return (hasLabel, hasTeacher);
    }

    /// <summary>
    /// Teacher logits with the rows of samples that have no teacher output replaced by zeros and detached, so whatever
    /// filler those rows hold (even NaN) cannot reach the loss or its gradient through a masked-out branch.
    /// </summary>
    public static Tensor TeacherLogits(ObjectiveInputs inputs, Tensor hasTeacher) =>
        where(hasTeacher.unsqueeze(1), inputs.TeacherLogits!.detach(), 0.0);

    /// <summary>
    /// Cross-entropy of each row against its label with label smoothing <c>eps</c>, the target being
    /// <c>(1 - eps) * onehot(y) + eps / C</c>: <c>CE_i = (1 - eps) * (-log p_{i,y_i}) + eps * mean_c(-log p_{i,c})</c>, as
    /// PyTorch's <c>cross_entropy(label_smoothing)</c> defines it. Rows without a label (-1) are computed against
    /// class 0 and must be masked by the caller.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logProbabilities, Tensor labels, double labelSmoothing)
    {
        var nll = -logProbabilities.gather(1, HeldScalars.ClampMin(labels, 0).unsqueeze(1)).squeeze(1);
        return labelSmoothing > 0
            ? HeldScalars.Mul(nll, 1 - labelSmoothing) - HeldScalars.Mul(logProbabilities.mean([1L]), labelSmoothing)
            : nll;
    }

    /// <summary>
    /// <c>KL(p_t^T || p_s^T) = sum_c p_t (log p_t - log p_s)</c> per row, with <c>p^T = softmax(z / T)</c> computed
    /// by <c>log_softmax</c>. Classes whose teacher probability underflows to 0 contribute exactly 0 (also when a
    /// teacher logit is -inf, where <c>0 * -inf</c> would be NaN), and their gradient is 0.
    /// </summary>
    public static Tensor KullbackLeibler(Tensor studentLogits, Tensor teacherLogits, double temperature) =>
        KullbackLeiblerToTarget(studentLogits, HeldScalars.Div(teacherLogits, temperature).log_softmax(1), temperature);

    /// <summary>
    /// <see cref="CrossEntropy"/> against each row's hard target, mixed when the batch is: with a mix,
    /// <c>lambda * CE(y_i) + (1 - lambda) * CE(y_partner(i))</c>, which is the cross-entropy against the soft target
    /// <c>lambda * onehot(y_i) + (1 - lambda) * onehot(y_partner(i))</c> (each smoothed). Rows without a label on
    /// either side must be masked by the caller (<see cref="Masks"/> does).
    /// </summary>
    public static Tensor LabelCrossEntropy(Tensor logProbabilities, ObjectiveInputs inputs, double labelSmoothing)
    {
        var own = CrossEntropy(logProbabilities, inputs.Labels, labelSmoothing);
        if (inputs.Mix is not { } mix)
        {
            return own;
        }
        var partner = CrossEntropy(logProbabilities, inputs.Labels.index_select(0, mix.Partner), labelSmoothing);
        return HeldScalars.Add(HeldScalars.Mul(own, mix.Lambda), HeldScalars.Mul(partner, 1 - mix.Lambda));
    }

    /// <summary>
    /// Log of each row's teacher target at temperature T, no grad: <c>log softmax(t_i / T)</c>, or with a mix of
    /// cached targets (<see cref="ObjectiveInputs.MixTeacherTargets"/>)
    /// <c>log(lambda * softmax(t_i / T) + (1 - lambda) * softmax(t_partner(i) / T))</c>. Rows of samples without a
    /// teacher output are computed from zeros (finite) and must be masked by the caller with <paramref name="hasTeacher"/>.
    /// </summary>
    public static Tensor TeacherLogTarget(ObjectiveInputs inputs, Tensor hasTeacher, double temperature)
    {
        var own = inputs.HasTeacher ?? hasTeacher;
        var logTarget = HeldScalars.Div(TeacherLogits(inputs, own), temperature).log_softmax(1);
        if (inputs.Mix is not { } mix || !inputs.MixTeacherTargets)
        {
            return logTarget;
        }
        var probabilities = logTarget.exp();
        var mixed = HeldScalars.Add(HeldScalars.Mul(probabilities, mix.Lambda), HeldScalars.Mul(probabilities.index_select(0, mix.Partner), 1 - mix.Lambda));
        return mixed.log();
    }

    /// <summary>
    /// <c>KL(q || p_s^T) = sum_c q (log q - log p_s^T)</c> per row for a target given by its log <paramref name="logTarget"/>
    /// (see <see cref="TeacherLogTarget"/>); classes where q is 0 contribute exactly 0.
    /// </summary>
    public static Tensor KullbackLeiblerToTarget(Tensor studentLogits, Tensor logTarget, double temperature)
    {
        var logStudent = HeldScalars.Div(studentLogits, temperature).log_softmax(1);
        var target = logTarget.exp();
        return where(HeldScalars.Gt(target, 0.0), target * (logTarget - logStudent), 0.0).sum(1);
    }

    /// <summary>Sum of <paramref name="values"/> over the rows where <paramref name="mask"/> is true, as a scalar.</summary>
    public static Tensor MaskedSum(Tensor values, Tensor mask) => where(mask, values, 0.0).sum();

    /// <summary>Number of true rows of <paramref name="mask"/> as a float scalar.</summary>
    public static Tensor Count(Tensor mask) => mask.sum().to_type(ScalarType.Float32);

    /// <summary>
    /// Copies the given scalars to the host in one transfer (one device sync per step instead of one per number).
    /// </summary>
    public static double[] ToHost(params Tensor[] scalars)
    {
        using var stacked = stack(scalars.Select(s => s.detach().to_type(ScalarType.Float64)).ToArray()).cpu();
        return stacked.data<double>().ToArray();
    }

    /// <summary><paramref name="sum"/> / <paramref name="count"/>, NaN when the count is 0 (the term applied to no sample).</summary>
    public static double Mean(double sum, double count) => count > 0 ? sum / count : double.NaN;

    /// <summary>Throws when the schedule is not usable: T must be positive and finite, alpha in [0, 1].</summary>
    public static void Check(ObjectiveSchedule schedule)
    {
        if (!double.IsFinite(schedule.Temperature) || schedule.Temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(schedule), schedule.Temperature, "Temperature must be positive and finite.");
        }

        if (!(schedule.Alpha >= 0 && schedule.Alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(schedule), schedule.Alpha, "Alpha must be in [0, 1].");
        }
    }
}
