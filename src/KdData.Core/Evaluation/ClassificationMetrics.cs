namespace KdData.Evaluation;

/// <summary>
/// Metrics of a classifier's logits against true labels: accuracy, per-class accuracy (recall), the
/// confusion matrix, negative log-likelihood and expected calibration error with its reliability bins.
/// Computed in double precision from raw logits (softmax through log-sum-exp), so any stage (teacher,
/// distillation, later pruning or quantisation) can hand in what its model produced.
/// </summary>
/// <remarks>
/// <para><b>Expected calibration error</b> (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017):
/// each sample's confidence is its top-1 softmax probability <c>c = max_k p_k</c>. The interval [0, 1] is cut
/// into <c>M</c> equal-width bins <c>B_m = ((m-1)/M, m/M]</c> (the first bin also holds 0), and
/// <c>ECE = sum_m |B_m|/n * |acc(B_m) - conf(B_m)|</c>, where <c>acc</c> is the share of correct top-1
/// predictions in the bin and <c>conf</c> its mean confidence. Empty bins contribute nothing. M = 15 by
/// default, as in that paper.</para>
/// <para>The top-1 prediction is the first index of the largest logit (ties go to the lower class index).</para>
/// </remarks>
public sealed record ClassificationMetrics
{
    /// <summary>Equal-width confidence bins used for the ECE unless told otherwise.</summary>
    public const int DefaultCalibrationBins = 15;

    /// <summary>Samples evaluated.</summary>
    public required int Count { get; init; }

    /// <summary>Share of samples whose top-1 prediction equals the label.</summary>
    public required double Accuracy { get; init; }

    /// <summary>Samples per true class (the confusion matrix's row sums).</summary>
    public required IReadOnlyList<int> ClassCounts { get; init; }

    /// <summary>Per true class: share predicted right (recall); null for a class with no samples.</summary>
    public required IReadOnlyList<double?> PerClassAccuracy { get; init; }

    /// <summary><c>ConfusionMatrix[true][predicted]</c>: counts of samples.</summary>
    public required IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix { get; init; }

    /// <summary>Mean of <c>-log softmax(logits)[label]</c> (natural log), i.e. the cross-entropy at T = 1.</summary>
    public required double NegativeLogLikelihood { get; init; }

    /// <summary>Expected calibration error over <see cref="ReliabilityBins"/> (see the type's remarks).</summary>
    public required double ExpectedCalibrationError { get; init; }

    /// <summary>Mean top-1 confidence over all samples.</summary>
    public required double MeanConfidence { get; init; }

    /// <summary>The equal-width confidence bins, lowest first.</summary>
    public required IReadOnlyList<ReliabilityBin> ReliabilityBins { get; init; }

    /// <summary>Computes the metrics of <paramref name="logits"/> (row-major, <c>labels.Length x numClasses</c>).</summary>
    /// <param name="logits">Raw model outputs, one row of <paramref name="numClasses"/> values per sample.</param>
    /// <param name="labels">True class index per sample.</param>
    /// <param name="numClasses">Number of classes (logit columns).</param>
    /// <param name="calibrationBins">Equal-width confidence bins of the ECE. Default 15.</param>
    /// <exception cref="ArgumentException">No samples, lengths that disagree, or a label outside [0, numClasses).</exception>
    public static ClassificationMetrics Compute(float[] logits, long[] labels, int numClasses, int calibrationBins = DefaultCalibrationBins)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calibrationBins);
        CheckShape(logits, labels.Length, numClasses, nameof(logits));
        var n = labels.Length;
        var confusion = new int[numClasses][];
        for (var k = 0; k < numClasses; k++)
        {
            confusion[k] = new int[numClasses];
        }

        var binCount = new int[calibrationBins];
        var binConfidence = new double[calibrationBins];
        var binCorrect = new int[calibrationBins];
        double nll = 0, confidenceSum = 0;
        var correct = 0;
        for (var i = 0; i < n; i++)
        {
            var label = labels[i];
            if (label < 0 || label >= numClasses)
            {
                throw new ArgumentException($"Label {label} of sample {i} is outside [0, {numClasses}).", nameof(labels));
            }

            var row = logits.AsSpan(i * numClasses, numClasses);
            var predicted = LogitMath.ArgMax(row);
            var logSumExp = LogitMath.LogSumExp(row);
            var confidence = Math.Exp(row[predicted] - logSumExp);
            nll += logSumExp - row[(int)label];
            confidenceSum += confidence;
            confusion[label][predicted]++;
            var bin = BinOf(confidence, calibrationBins);
            binCount[bin]++;
            binConfidence[bin] += confidence;
            if (predicted == label)
            {
                correct++;
                binCorrect[bin]++;
            }
        }

        var bins = new ReliabilityBin[calibrationBins];
        double ece = 0;
        for (var m = 0; m < calibrationBins; m++)
        {
            var count = binCount[m];
            double? meanConfidence = count == 0 ? null : binConfidence[m] / count;
            double? accuracy = count == 0 ? null : (double)binCorrect[m] / count;
            if (count > 0)
            {
                ece += (double)count / n * Math.Abs(accuracy!.Value - meanConfidence!.Value);
            }

            bins[m] = new ReliabilityBin
            {
                Lower = (double)m / calibrationBins,
                Upper = (double)(m + 1) / calibrationBins,
                Count = count,
                MeanConfidence = meanConfidence,
                Accuracy = accuracy,
            };
        }

        var classCounts = confusion.Select(r => r.Sum()).ToArray();
        return new ClassificationMetrics
        {
            Count = n,
            Accuracy = (double)correct / n,
            ClassCounts = classCounts,
            PerClassAccuracy = [.. Enumerable.Range(0, numClasses).Select(k => classCounts[k] == 0 ? (double?)null : (double)confusion[k][k] / classCounts[k])],
            ConfusionMatrix = confusion,
            NegativeLogLikelihood = nll / n,
            ExpectedCalibrationError = ece,
            MeanConfidence = confidenceSum / n,
            ReliabilityBins = bins,
        };
    }

    /// <summary>Bin m (0-based) holds confidences in (m/M, (m+1)/M]; 0 goes to the first bin.</summary>
    internal static int BinOf(double confidence, int bins) =>
        Math.Clamp((int)Math.Ceiling(confidence * bins) - 1, 0, bins - 1);

    internal static void CheckShape(float[] logits, int samples, int numClasses, string name)
    {
        if (samples == 0)
        {
            throw new ArgumentException("There are no samples to evaluate.", name);
        }

        if (logits.LongLength != (long)samples * numClasses)
        {
            throw new ArgumentException($"Logits hold {logits.LongLength} values but {samples} samples of {numClasses} classes need {(long)samples * numClasses}.", name);
        }
    }
}
