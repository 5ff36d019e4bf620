namespace KdData.Tests.Objectives;

/// <summary>
/// The loss formulas written out with System.Math in double precision over plain arrays, independent of torch, so the
/// objectives' tensor code is checked against arithmetic a reader can follow line by line.
/// </summary>
internal static class HandLoss
{
    /// <summary>log softmax(z / T), stable: ln q_c = (z_c - max) / T - ln sum_j exp((z_j - max) / T).</summary>
    public static double[] LogSoftmax(double[] z, double temperature = 1.0)
    {
        var max = z.Max();
        var sum = z.Sum(v => Math.Exp((v - max) / temperature));
        return [.. z.Select(v => ((v - max) / temperature) - Math.Log(sum))];
    }

    public static double[] Softmax(double[] z, double temperature = 1.0) => [.. LogSoftmax(z, temperature).Select(Math.Exp)];

    /// <summary>CE against (1 - eps) onehot(y) + eps / C: (1 - eps) (-ln p_y) + eps * mean_c(-ln p_c).</summary>
    public static double CrossEntropy(double[] z, int label, double labelSmoothing = 0.0)
    {
        var logP = LogSoftmax(z);
        return ((1 - labelSmoothing) * -logP[label]) + (labelSmoothing * logP.Average(v => -v));
    }

    /// <summary>KL(p_t^T || p_s^T) = sum_c p_t (ln p_t - ln p_s); terms with p_t = 0 are 0.</summary>
    public static double KullbackLeibler(double[] teacher, double[] student, double temperature)
    {
        var logT = LogSoftmax(teacher, temperature);
        var logS = LogSoftmax(student, temperature);
        var kl = 0.0;
        for (var c = 0; c < teacher.Length; c++)
        {
            var p = Math.Exp(logT[c]);
            kl += p > 0 ? p * (logT[c] - logS[c]) : 0.0;
        }

        return kl;
    }

    /// <summary>Index of the largest value (the lowest index on ties).</summary>
    public static int ArgMax(double[] z)
    {
        var best = 0;
        for (var i = 1; i < z.Length; i++)
        {
            if (z[i] > z[best])
            {
                best = i;
            }
        }

        return best;
    }
}
