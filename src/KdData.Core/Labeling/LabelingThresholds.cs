using System.Globalization;

namespace KdData.Labeling;

/// <summary>
/// The run's limits: per-class confidence thresholds and caps (which decide accepted vs rejected views), resolved
/// against the teacher's class names once at start so a misspelt class fails the run before anything is done, and
/// the error thresholds that stop a run whose input is mostly broken.
/// </summary>
internal sealed class LabelingThresholds
{
    private readonly LabelingOptions _options;

    private LabelingThresholds(LabelingOptions options, float[] confidence, int[] caps)
    {
        _options = options;
        Confidence = confidence;
        Caps = caps;
    }

    /// <summary>Minimum confidence per class index (<c>Labeler:ClassThresholds</c>, else <c>Labeler:MinConfidence</c>).</summary>
    public float[] Confidence { get; }

    /// <summary>Most accepted views per class index (<c>Labeler:ClassCaps</c>, else unlimited).</summary>
    public int[] Caps { get; }

    /// <exception cref="ArgumentException">A setting names no class of the teacher.</exception>
    public static LabelingThresholds Resolve(LabelingOptions options, IReadOnlyList<string> classNames, int classes, string teacherId)
    {
        var confidence = ResolvePerClass(options.ClassThresholds, classNames, classes, (float)options.MinConfidence, v => (float)v, "ClassThresholds", teacherId);
        var caps = ResolvePerClass(options.ClassCaps, classNames, classes, int.MaxValue, v => v, "ClassCaps", teacherId);
        return new LabelingThresholds(options, confidence, caps);
    }

    /// <summary>Whether <c>Labeler:MaxErrors</c> or <c>Labeler:MaxErrorPercent</c> (after <c>ErrorPercentMinImages</c>) is exceeded.</summary>
    public bool ErrorLimitExceeded(long errors, long images)
    {
        if (_options.MaxErrors >= 0 && errors > _options.MaxErrors)
        {
            return true;
        }

        return images >= _options.ErrorPercentMinImages && errors * 100.0 / images > _options.MaxErrorPercent;
    }

    private static T[] ResolvePerClass<TValue, T>(Dictionary<string, TValue> settings, IReadOnlyList<string> names, int classes, T fallback, Func<TValue, T> convert, string setting, string teacherId)
    {
        var values = Enumerable.Repeat(fallback, classes).ToArray();
        foreach (var (name, value) in settings)
        {
            var index = names.ToList().IndexOf(name);
            if (index < 0 && (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out index) || index >= classes))
            {
                throw new ArgumentException($"Labeler:{setting}:{name} names no class of teacher {teacherId} (classes: {string.Join(", ", names)}).");
            }

            values[index] = convert(value);
        }

        return values;
    }
}
