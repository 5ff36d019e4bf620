using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Supervised cross-entropy (key <c>ce</c>): <c>L = -(1/|S|) sum_{i in S} sum_c q_ic log softmax(s_i)_c</c> over the
/// samples S that have a label, with the label-smoothed target <c>q_ic = (1 - eps) [c = y_i] + eps / C</c>
/// (Szegedy et al. 2016, "Rethinking the Inception Architecture", label smoothing). Pseudo-labeled samples are ignored.
/// </summary>
public sealed class CrossEntropyObjective : ITrainingObjective
{
    /// <summary>Configuration key.</summary>
    public const string Key = "ce";

    /// <param name="labelSmoothing">eps in [0, 1).</param>
    public CrossEntropyObjective(double labelSmoothing = 0.0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(labelSmoothing);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(labelSmoothing, 1.0);
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>eps.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public string Name => Key;

    /// <inheritdoc />
    public bool NeedsTeacher => false;

    /// <inheritdoc />
    public ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        // ignore_index drops pseudo-labeled rows from both the sum and the mean's denominator.
        var loss = nn.functional.cross_entropy(inputs.StudentLogits, inputs.Labels, ignore_index: ObjectiveInputs.NoLabel, label_smoothing: LabelSmoothing);
        var value = loss.item<float>();
        return new ObjectiveLoss(loss, value, double.NaN);
    }
}
