namespace KdData.Evaluation;

/// <summary>
/// Accuracy of pseudo-labels (a teacher's top-1 predictions on the unlabeled pool) against the pool's true
/// labels, which the importer withholds in <c>pool-labels.parquet</c> only for this measurement. A prediction
/// whose key has no true label is counted in <see cref="Unmatched"/> and left out of the accuracy. Every
/// prediction counts once, so with several views per image each view is one pseudo-label.
/// </summary>
public sealed record PseudoLabelAccuracy
{
    /// <summary>Predictions given.</summary>
    public required int Predictions { get; init; }

    /// <summary>Predictions whose key has a true label.</summary>
    public required int Matched { get; init; }

    /// <summary>Predictions whose key has no true label (e.g. a key prefix that does not fit).</summary>
    public required int Unmatched { get; init; }

    /// <summary>Matched predictions equal to the true label.</summary>
    public required int Correct { get; init; }

    /// <summary><see cref="Correct"/> / <see cref="Matched"/>; null when nothing matched.</summary>
    public double? Accuracy { get; init; }

    /// <summary>Distinct matched keys over the number of true labels: how much of the pool has a pseudo-label.</summary>
    public required double Coverage { get; init; }

    /// <summary>Matched predictions per predicted class.</summary>
    public required IReadOnlyList<int> PerClassPredictions { get; init; }

    /// <summary>Per predicted class: share that is right (precision); null for a class never predicted.</summary>
    public required IReadOnlyList<double?> PerClassPrecision { get; init; }

    /// <summary>Scores <paramref name="predictions"/> against <paramref name="truth"/> (key -> class index).</summary>
    /// <exception cref="ArgumentException">A predicted class outside [0, numClasses).</exception>
    public static PseudoLabelAccuracy Compute(IEnumerable<(string Key, int Predicted)> predictions, IReadOnlyDictionary<string, int> truth, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        var perClass = new int[numClasses];
        var perClassCorrect = new int[numClasses];
        var keys = new HashSet<string>(StringComparer.Ordinal);
        int total = 0, matched = 0, correct = 0;
        foreach (var (key, predicted) in predictions)
        {
            total++;
            if (predicted < 0 || predicted >= numClasses)
            {
                throw new ArgumentException($"Predicted class {predicted} of '{key}' is outside [0, {numClasses}).", nameof(predictions));
            }

            if (!truth.TryGetValue(key, out var label))
            {
                continue;
            }

            matched++;
            keys.Add(key);
            perClass[predicted]++;
            if (predicted == label)
            {
                correct++;
                perClassCorrect[predicted]++;
            }
        }

        return new PseudoLabelAccuracy
        {
            Predictions = total,
            Matched = matched,
            Unmatched = total - matched,
            Correct = correct,
            Accuracy = matched == 0 ? null : (double)correct / matched,
            Coverage = truth.Count == 0 ? 0 : (double)keys.Count / truth.Count,
            PerClassPredictions = perClass,
            PerClassPrecision = [.. Enumerable.Range(0, numClasses).Select(k => perClass[k] == 0 ? (double?)null : (double)perClassCorrect[k] / perClass[k])],
        };
    }
}
