using System.Diagnostics;

namespace KdData.SoftTargets;

/// <summary>
/// The teacher's output for one image view, reduced to what a student needs: the arg-max class, the
/// confidence and entropy of the softmax at temperature 1, the <c>k</c> largest logits with their class
/// indices, and the log-sum-exp of <em>all</em> logits.
/// </summary>
/// <remarks>
/// <para>Storing <see cref="LogSumExp"/> next to raw logits (instead of probabilities) is what lets the
/// trainer rebuild the distribution at any temperature without re-running the teacher: at T = 1 the
/// probability of a stored class is <c>p_i = exp(z_i - LogSumExp)</c>.</para>
/// <para>Rebuilding at temperature T (see <see cref="ProbabilitiesAt(double, Span{float})"/>), with the
/// stored logits <c>z_1 &gt;= ... &gt;= z_k</c> and <c>C</c> classes:</para>
/// <list type="bullet">
/// <item><description>k = C (exact): <c>q_i = exp((z_i - z_1) / T) / sum_j exp((z_j - z_1) / T)</c>.</description></item>
/// <item><description>k &lt; C (approximation): the tail mass at T = 1 is
/// <c>R = 1 - sum_{i&lt;=k} exp(z_i - LogSumExp)</c>. The C - k unstored classes are treated as sharing it
/// equally, i.e. as all having the logit <c>z_r = LogSumExp + ln(R / (C - k))</c> (clamped to at most
/// <c>z_k</c>; <c>-inf</c> when R &lt;= 0). Then <c>q_i = exp((z_i - z_1) / T) / S</c> for every class,
/// with <c>S = sum_{i&lt;=k} exp((z_i - z_1) / T) + (C - k) exp((z_r - z_1) / T)</c>. At T = 1 this
/// reproduces the stored classes' probabilities exactly and spreads R evenly; the probabilities sum to 1
/// at every T. The true tail is usually more peaked than uniform, so at T &gt; 1 the approximation slightly
/// over-weights the tail's head and under-weights its end.</description></item>
/// </list>
/// </remarks>
public sealed record SoftTarget
{
    private readonly int[] _topKClasses;
    private readonly float[] _topKLogits;

    /// <summary>Creates a soft target from already computed numbers (e.g. read back from a shard).</summary>
    /// <exception cref="ArgumentException">The lists are empty, differ in length, contain a negative or
    /// repeated class, or the logits are not finite and descending.</exception>
    public SoftTarget(
        int predicted,
        float confidence,
        float entropy,
        IReadOnlyList<int> topKClasses,
        IReadOnlyList<float> topKLogits,
        float logSumExp)
    {
        ArgumentNullException.ThrowIfNull(topKClasses);
        ArgumentNullException.ThrowIfNull(topKLogits);
        if (topKClasses.Count == 0 || topKClasses.Count != topKLogits.Count)
        {
            throw new ArgumentException(
                $"Top-k classes ({topKClasses.Count}) and logits ({topKLogits.Count}) must be non-empty and of equal length.",
                nameof(topKClasses));
        }

        _topKClasses = [.. topKClasses];
        _topKLogits = [.. topKLogits];
        var seen = new HashSet<int>();
        for (var i = 0; i < _topKClasses.Length; i++)
        {
            if (_topKClasses[i] < 0 || !seen.Add(_topKClasses[i]))
            {
                throw new ArgumentException($"Top-k class {_topKClasses[i]} at position {i} is negative or repeated.", nameof(topKClasses));
            }

            if (!float.IsFinite(_topKLogits[i]) || (i > 0 && _topKLogits[i] > _topKLogits[i - 1]))
            {
                throw new ArgumentException($"Top-k logit {_topKLogits[i]} at position {i} is not finite or not in descending order.", nameof(topKLogits));
            }
        }

        if (!float.IsFinite(logSumExp))
        {
            throw new ArgumentException($"Log-sum-exp {logSumExp} is not finite.", nameof(logSumExp));
        }

        Predicted = predicted;
        Confidence = confidence;
        Entropy = entropy;
        LogSumExp = logSumExp;
    }

    /// <summary>Arg-max class of the logits (the lowest index on ties).</summary>
    public int Predicted { get; }

    /// <summary>Largest softmax probability at T = 1.</summary>
    public float Confidence { get; }

    /// <summary>Entropy of the softmax at T = 1, in nats: <c>-sum_i p_i ln p_i</c>.</summary>
    public float Entropy { get; }

    /// <summary>Class indices of the k largest logits, in the order of <see cref="TopKLogits"/>.</summary>
    public IReadOnlyList<int> TopKClasses => _topKClasses;

    /// <summary>The k largest logits, descending.</summary>
    public IReadOnlyList<float> TopKLogits => _topKLogits;

    /// <summary>Log-sum-exp of all C logits (not just the top k).</summary>
    public float LogSumExp { get; }

    /// <summary>Number of stored classes, k.</summary>
    public int K => _topKClasses.Length;

    /// <summary>
    /// Summarises one row of logits. Numerically stable: exponentials are taken of <c>z_i - max z</c> and
    /// accumulated in double precision.
    /// </summary>
    /// <param name="logits">The C logits of one image view.</param>
    /// <param name="topK">How many of the largest logits to keep; capped at C.</param>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty or has a non-finite value.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="topK"/> is less than 1.</exception>
    public static SoftTarget FromLogits(ReadOnlySpan<float> logits, int topK)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(topK, 1);
        if (logits.IsEmpty)
        {
            throw new ArgumentException("Logits are empty.", nameof(logits));
        }

        var argMax = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (!float.IsFinite(logits[i]))
            {
                throw new ArgumentException($"Logit {i} is {logits[i]}; all logits must be finite.", nameof(logits));
            }

            if (logits[i] > logits[argMax])
            {
                argMax = i;
            }
        }

        double max = logits[argMax];
        var sumExp = 0.0;
        foreach (var z in logits)
        {
            sumExp += Math.Exp(z - max);
        }

        // sumExp >= 1 because the max term is exp(0); so the log is finite and >= 0.
        var logSumExp = max + Math.Log(sumExp);

        // H = -sum p_i ln p_i with ln p_i = z_i - lse, i.e. H = sum p_i (lse - z_i); every term is >= 0, and
        // p_i = 0 (underflow) contributes 0 instead of 0 * -inf.
        var entropy = 0.0;
        foreach (var z in logits)
        {
            var p = Math.Exp(z - logSumExp);
            entropy += p * (logSumExp - z);
        }

        var k = Math.Min(topK, logits.Length);
        var classes = new int[k];
        var topLogits = new float[k];
        SelectTopK(logits, classes, topLogits);
        Debug.Assert(classes[0] == argMax, "the first top-k class is the arg-max");

        return new SoftTarget(argMax, (float)(1.0 / sumExp), (float)entropy, classes, topLogits, (float)logSumExp, trusted: true);
    }

    /// <summary>
    /// The k = <paramref name="classes"/>.Length largest logits, descending by logit and ascending by index on ties
    /// (deterministic; position 0 is the arg-max), by insertion into a sorted buffer of k: O(C k) comparisons with no
    /// allocation, cheaper than sorting all C indices with a comparison delegate for the usual small k (one per
    /// image view, so it runs tens of thousands of times per second).
    /// </summary>
    private static void SelectTopK(ReadOnlySpan<float> logits, Span<int> classes, Span<float> topLogits)
    {
        var k = classes.Length;
        var filled = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var z = logits[i];
            // Indices arrive in ascending order, so an equal logit already in the buffer stays ahead of this one.
            if (filled == k && !(z > topLogits[k - 1]))
            {
                continue;
            }

            var position = filled < k ? filled++ : k - 1;
            while (position > 0 && z > topLogits[position - 1])
            {
                topLogits[position] = topLogits[position - 1];
                classes[position] = classes[position - 1];
                position--;
            }

            topLogits[position] = z;
            classes[position] = i;
        }
    }

    /// <summary>
    /// Rebuilds a soft target from numbers a caller stored after they passed this type's checks (a compact column
    /// store keeps them instead of the object): takes ownership of the arrays, no copies, no checks.
    /// </summary>
    internal static SoftTarget FromChecked(int predicted, float confidence, float entropy, int[] topKClasses, float[] topKLogits, float logSumExp)
    {
        Debug.Assert(topKClasses.Length > 0 && topKClasses.Length == topKLogits.Length, "checked when first built");
        return new SoftTarget(predicted, confidence, entropy, topKClasses, topKLogits, logSumExp, trusted: true);
    }

    /// <summary>Takes ownership of arrays <see cref="FromLogits"/> built and already knows valid (no copies, no checks).</summary>
#pragma warning disable IDE0060 // the flag only selects this overload
    private SoftTarget(int predicted, float confidence, float entropy, int[] topKClasses, float[] topKLogits, float logSumExp, bool trusted)
#pragma warning restore IDE0060
    {
        _topKClasses = topKClasses;
        _topKLogits = topKLogits;
        Predicted = predicted;
        Confidence = confidence;
        Entropy = entropy;
        LogSumExp = logSumExp;
    }

    /// <summary>
    /// Rebuilds the class probabilities at <paramref name="temperature"/> into <paramref name="destination"/>,
    /// whose length is the number of classes C. Exact when k = C, otherwise the uniform-tail approximation
    /// described on <see cref="SoftTarget"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The temperature is not a positive finite number.</exception>
    /// <exception cref="ArgumentException">The destination is shorter than k or than a stored class index.</exception>
    public void ProbabilitiesAt(double temperature, Span<float> destination)
    {
        if (!double.IsFinite(temperature) || temperature <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Temperature must be positive and finite.");
        }

        CheckDestination(destination);
        var numClasses = destination.Length;

        double top = _topKLogits[0];
        var tailCount = numClasses - K;
        var tailLogit = TailLogit(numClasses);
        var tailTerm = double.IsNegativeInfinity(tailLogit) ? 0.0 : Math.Exp((tailLogit - top) / temperature);

        var sum = tailCount * tailTerm;
        foreach (var z in _topKLogits)
        {
            sum += Math.Exp((z - top) / temperature);
        }

        destination.Fill((float)(tailTerm / sum));
        for (var i = 0; i < K; i++)
        {
            destination[_topKClasses[i]] = (float)(Math.Exp((_topKLogits[i] - top) / temperature) / sum);
        }
    }

    /// <summary>
    /// How far below the top logit <see cref="DenseLogits"/> puts unstored classes when the tail mass is 0: 1e4.
    /// </summary>
    public const float TailLogitFloor = 1e4f;

    /// <summary>
    /// Writes a dense row of C logits (C = <paramref name="destination"/>'s length) whose <c>softmax(z / T)</c> is
    /// <see cref="ProbabilitiesAt(double, Span{float})"/> at every T: the stored logits at their classes and the tail
    /// logit <c>z_r</c> (see the remarks on <see cref="SoftTarget"/>) at every unstored class. This is how cached soft
    /// targets reach a loss that takes teacher logits, such as <c>HintonDistillationObjective</c>.
    /// </summary>
    /// <remarks>
    /// When the tail mass is 0 (the stored classes' probabilities sum to 1 in float precision) <c>z_r</c> is
    /// <c>-inf</c>. It is written as the finite floor <see cref="TailLogitFloor"/> below the top logit instead:
    /// <c>exp(-1e4 / T)</c> is 0 in float32 for any T below about 96, so the probabilities are unchanged, while a
    /// loss that forms <c>p * log p</c> (a KL divergence) sees <c>0 * (finite)</c> = 0 rather than
    /// <c>0 * -inf</c> = NaN, and no NaN reaches the gradient.
    /// </remarks>
    /// <exception cref="ArgumentException">The destination is shorter than k or than a stored class index.</exception>
    public void DenseLogits(Span<float> destination)
    {
        CheckDestination(destination);
        var tailLogit = TailLogit(destination.Length);
        destination.Fill(double.IsNegativeInfinity(tailLogit) ? _topKLogits[0] - TailLogitFloor : (float)tailLogit);
        for (var i = 0; i < K; i++)
        {
            destination[_topKClasses[i]] = _topKLogits[i];
        }
    }

    private void CheckDestination(ReadOnlySpan<float> destination)
    {
        var numClasses = destination.Length;
        if (numClasses < K)
        {
            throw new ArgumentException($"Destination has {numClasses} classes but the soft target stores {K}.", nameof(destination));
        }

        foreach (var c in _topKClasses)
        {
            if (c >= numClasses)
            {
                throw new ArgumentException($"Stored class {c} does not fit a destination of {numClasses} classes.", nameof(destination));
            }
        }
    }

    /// <summary>
    /// The logit <c>z_r</c> shared by the C - k unstored classes (see the remarks on <see cref="SoftTarget"/>):
    /// <c>LogSumExp + ln(R / (C - k))</c>, clamped to at most <c>z_k</c>; <c>-inf</c> when R &lt;= 0 or k = C.
    /// </summary>
    private double TailLogit(int numClasses)
    {
        var tailCount = numClasses - K;
        if (tailCount <= 0)
        {
            return double.NegativeInfinity;
        }

        var storedMass = 0.0;
        foreach (var z in _topKLogits)
        {
            storedMass += Math.Exp(z - (double)LogSumExp);
        }

        var tailMass = 1.0 - storedMass;
        // The average tail probability never exceeds the smallest stored one; clamp float rounding.
        return tailMass > 0
            ? Math.Min(LogSumExp + Math.Log(tailMass / tailCount), _topKLogits[^1])
            : double.NegativeInfinity;
    }

    /// <summary>Allocating form of <see cref="ProbabilitiesAt(double, Span{float})"/>.</summary>
    public float[] ProbabilitiesAt(double temperature, int numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        var result = new float[numClasses];
        ProbabilitiesAt(temperature, result);
        return result;
    }

    /// <summary>Value equality, including the top-k lists element by element.</summary>
    public bool Equals(SoftTarget? other) =>
        other is not null
        && Predicted == other.Predicted
        && Confidence.Equals(other.Confidence)
        && Entropy.Equals(other.Entropy)
        && LogSumExp.Equals(other.LogSumExp)
        && _topKClasses.AsSpan().SequenceEqual(other._topKClasses)
        && _topKLogits.AsSpan().SequenceEqual(other._topKLogits);

    public override int GetHashCode() =>
        HashCode.Combine(Predicted, Confidence, Entropy, LogSumExp, _topKClasses.Length, _topKClasses[0], _topKLogits[0]);
}
