namespace KdData.Training;

/// <summary>
/// Learning rate per optimizer step (0-based): a linear warm-up over the first <see cref="WarmupSteps"/> steps,
/// <c>base * (step + 1) / warmup</c>, so the first step uses a small but non-zero rate and step
/// <c>warmup - 1</c> uses the base rate; then a half cosine from the base rate down to the minimum, reached at
/// the last step <c>total - 1</c>. Steps past the end stay at the minimum. Pure arithmetic, no torch.
/// </summary>
public sealed class CosineWarmupSchedule
{
    /// <exception cref="ArgumentOutOfRangeException">Non-positive rates or steps, or min above base.</exception>
    public CosineWarmupSchedule(double baseLearningRate, double minLearningRate, long warmupSteps, long totalSteps)
    {
        if (!(baseLearningRate > 0) || double.IsInfinity(baseLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate, "The base learning rate must be a positive finite number.");
        }
        if (!(minLearningRate >= 0) || minLearningRate > baseLearningRate)
        {
            throw new ArgumentOutOfRangeException(nameof(minLearningRate), minLearningRate, "The minimum learning rate must be in [0, base learning rate].");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(warmupSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(totalSteps);
        BaseLearningRate = baseLearningRate;
        MinLearningRate = minLearningRate;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
    }

    public double BaseLearningRate { get; }

    public double MinLearningRate { get; }

    public long WarmupSteps { get; }

    public long TotalSteps { get; }

    /// <summary>The learning rate of step <paramref name="step"/> (0-based).</summary>
    public double At(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (step < WarmupSteps)
        {
            return BaseLearningRate * (step + 1) / WarmupSteps;
        }
        // The cosine starts at the last warm-up step (which already has the base rate) so the curve is continuous.
        var start = Math.Max(WarmupSteps - 1, 0);
        var span = TotalSteps - 1 - start;
        if (span <= 0)
        {
            return step >= TotalSteps ? MinLearningRate : BaseLearningRate;
        }
        var progress = Math.Min(1.0, (double)(step - start) / span);
        return MinLearningRate + ((BaseLearningRate - MinLearningRate) * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
