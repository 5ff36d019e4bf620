namespace KdData.Evaluation;

/// <summary>
/// What a model produced on an evaluation set: its logits (row-major, <see cref="Count"/> x
/// <see cref="NumClasses"/>) and the true label of each row, in the data's order.
/// </summary>
public sealed class ModelOutputs
{
    /// <exception cref="ArgumentException">The logits do not hold <c>labels.Length x numClasses</c> values.</exception>
    public ModelOutputs(float[] logits, long[] labels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegative(numClasses);
        if (logits.LongLength != (long)labels.Length * numClasses)
        {
            throw new ArgumentException($"Logits hold {logits.LongLength} values but {labels.Length} samples of {numClasses} classes need {(long)labels.Length * numClasses}.", nameof(logits));
        }

        Logits = logits;
        Labels = labels;
        NumClasses = numClasses;
    }

#pragma warning disable CA1819 // Plain buffers handed to the metrics; copying them would defeat the point.
    /// <summary>Raw outputs, <see cref="Count"/> rows of <see cref="NumClasses"/> values.</summary>
    public float[] Logits { get; }

    /// <summary>True class per row.</summary>
    public long[] Labels { get; }
#pragma warning restore CA1819

    /// <summary>Logit columns (0 when the data was empty).</summary>
    public int NumClasses { get; }

    /// <summary>Rows (samples).</summary>
    public int Count => Labels.Length;

    /// <summary>The metrics of these outputs (see <see cref="ClassificationMetrics.Compute"/>).</summary>
    public ClassificationMetrics ComputeMetrics(int calibrationBins = ClassificationMetrics.DefaultCalibrationBins) =>
        ClassificationMetrics.Compute(Logits, Labels, NumClasses, calibrationBins);
}
