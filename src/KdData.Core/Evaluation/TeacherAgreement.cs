namespace KdData.Evaluation;

/// <summary>
/// How closely a student follows its teacher on the same images: top-1 agreement and the mean
/// <c>KL(p_teacher || p_student)</c> at temperature 1. KL is the quantity distillation minimises (up to the
/// T^2 factor and the teacher's entropy, which does not depend on the student), so it shows how much of the
/// teacher's "dark knowledge" the student has taken on beyond the arg-max that agreement measures.
/// </summary>
public sealed record TeacherAgreement
{
    /// <summary>Samples compared.</summary>
    public required int Count { get; init; }

    /// <summary>Share of samples on which both top-1 predictions are the same class.</summary>
    public required double Top1Agreement { get; init; }

    /// <summary>
    /// Mean over samples of <c>sum_k p_t(k) * (log p_t(k) - log p_s(k))</c>, natural log, with
    /// <c>p = softmax(logits)</c> (T = 1). Zero when the distributions are equal.
    /// </summary>
    public required double MeanKlTeacherStudent { get; init; }

    /// <summary>Compares two row-major logit arrays of the same samples (<c>n x numClasses</c> each).</summary>
    /// <exception cref="ArgumentException">Empty, or the arrays do not have <c>n x numClasses</c> values each.</exception>
    public static TeacherAgreement Compute(float[] studentLogits, float[] teacherLogits, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        var n = studentLogits.Length / numClasses;
        ClassificationMetrics.CheckShape(studentLogits, n, numClasses, nameof(studentLogits));
        ClassificationMetrics.CheckShape(teacherLogits, n, numClasses, nameof(teacherLogits));
        var agree = 0;
        double kl = 0;
        for (var i = 0; i < n; i++)
        {
            var s = studentLogits.AsSpan(i * numClasses, numClasses);
            var t = teacherLogits.AsSpan(i * numClasses, numClasses);
            if (LogitMath.ArgMax(s) == LogitMath.ArgMax(t))
            {
                agree++;
            }

            var lseS = LogitMath.LogSumExp(s);
            var lseT = LogitMath.LogSumExp(t);
            double sample = 0;
            for (var k = 0; k < numClasses; k++)
            {
                var logPt = t[k] - lseT;
                var logPs = s[k] - lseS;
                sample += Math.Exp(logPt) * (logPt - logPs);
            }

            kl += sample;
        }

        return new TeacherAgreement { Count = n, Top1Agreement = (double)agree / n, MeanKlTeacherStudent = kl / n };
    }
}
