namespace KdData.Evaluation;

/// <summary>Row-wise softmax pieces in double precision, shared by the evaluation metrics.</summary>
internal static class LogitMath
{
    /// <summary>Index of the largest value; the first one on ties (as <c>argmax</c> in PyTorch on CPU).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var k = 1; k < row.Length; k++)
        {
            if (row[k] > row[best])
            {
                best = k;
            }
        }

        return best;
    }

    /// <summary><c>log(sum_k exp(row_k))</c>, shifted by the maximum so large logits do not overflow.</summary>
    public static double LogSumExp(ReadOnlySpan<float> row)
    {
        double max = row[ArgMax(row)];
        double sum = 0;
        foreach (var value in row)
        {
            sum += Math.Exp(value - max);
        }

        return max + Math.Log(sum);
    }
}
