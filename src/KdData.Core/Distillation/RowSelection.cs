using System.Globalization;
using KdData.Hosting;

namespace KdData.Distillation;

/// <summary>
/// The load-time selection rules of <see cref="ShardSelectionOptions"/>, resolved against the student's
/// classes and applied to the rows that are their image's latest labeling: the confidence thresholds
/// first, then the caps on what is left (keeping the most confident rows of each class).
/// </summary>
internal sealed class RowSelection
{
    private readonly IReadOnlyList<string> _classes;
    private readonly double[] _thresholds;
    private readonly int?[] _capOverrides;
    private readonly string _classCap;
    private readonly int? _fixedCap;
    private readonly bool _includeRejected;

    /// <exception cref="InvalidInputException">A per-class setting names no class of the student.</exception>
    public RowSelection(ShardSelectionOptions options, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(classes);
        _classes = classes;
        _thresholds = Enumerable.Repeat(options.MinConfidence, classes.Count).ToArray();
        foreach (var (name, value) in options.ClassThresholds)
        {
            _thresholds[ClassIndex(name, "ClassThresholds")] = value;
        }

        _capOverrides = new int?[classes.Count];
        foreach (var (name, value) in options.ClassCaps)
        {
            _capOverrides[ClassIndex(name, "ClassCaps")] = value;
        }

        _classCap = options.ClassCap;
        _fixedCap = options.FixedCap;
        _includeRejected = options.IncludeRejected;
    }

    /// <summary>Applies the rules.</summary>
    /// <param name="latest">Rows that are their image's latest labeling, accepted and rejected alike.</param>
    /// <param name="superseded">Per class, rows dropped earlier because a later commit relabeled their image.</param>
    /// <param name="errorImages">Images whose latest commit holds an error row (for the report).</param>
    /// <returns>The kept rows ordered by source, key and view, and the per-class report.</returns>
    public (PseudoLabel[] Kept, SelectionReport Report) Apply(IReadOnlyList<PseudoLabel> latest, int[] superseded, int errorImages)
    {
        ArgumentNullException.ThrowIfNull(latest);
        var count = _classes.Count;
        var accepted = new int[count];
        var rejected = new int[count];
        var included = new int[count];
        var below = new int[count];
        var passed = new List<PseudoLabel>[count];
        for (var c = 0; c < count; c++)
        {
            passed[c] = [];
        }

        foreach (var row in latest)
        {
            var c = row.Predicted;
            if (row.FromRejected)
            {
                rejected[c]++;
                if (!_includeRejected)
                {
                    continue;
                }

                included[c]++;
            }
            else
            {
                accepted[c]++;
            }

            if (row.Confidence < _thresholds[c])
            {
                below[c]++;
            }
            else
            {
                passed[c].Add(row);
            }
        }

        var caps = ResolveCaps(passed);
        var kept = new List<PseudoLabel>();
        var entries = new ClassSelection[count];
        for (var c = 0; c < count; c++)
        {
            var rows = passed[c];
            var overCap = 0;
            if (caps[c] is { } cap && rows.Count > cap)
            {
                // Most confident first; ties broken by identity so the choice does not depend on file order.
                rows.Sort((a, b) => b.Confidence != a.Confidence ? b.Confidence.CompareTo(a.Confidence) : Compare(a, b));
                overCap = rows.Count - cap;
                rows.RemoveRange(cap, overCap);
            }

            kept.AddRange(rows);
            entries[c] = new ClassSelection(
                _classes[c], accepted[c], rejected[c], included[c], superseded[c], below[c], overCap, _thresholds[c], caps[c], rows.Count);
        }

        kept.Sort(Compare);
        return ([.. kept], new SelectionReport(entries, _includeRejected, errorImages));
    }

    /// <summary>Order of the returned rows: source, key (ordinal), view.</summary>
    internal static int Compare(PseudoLabel a, PseudoLabel b)
    {
        var order = a.Source.CompareTo(b.Source);
        if (order == 0)
        {
            order = string.CompareOrdinal(a.Key, b.Key);
        }

        return order != 0 ? order : a.View.CompareTo(b.View);
    }

    private int?[] ResolveCaps(List<PseudoLabel>[] passed)
    {
        int? common = _classCap switch
        {
            ShardSelectionOptions.NoCap => null,
            // Noisy Student balances to the smallest class; a class with no row at all would cap every class
            // at 0, so only classes that have rows count.
            ShardSelectionOptions.BalanceCap => passed.Where(r => r.Count > 0).Select(r => r.Count).DefaultIfEmpty(0).Min(),
            _ => _fixedCap,
        };
        return [.. _capOverrides.Select(o => o ?? common)];
    }

    private int ClassIndex(string name, string setting)
    {
        for (var i = 0; i < _classes.Count; i++)
        {
            if (string.Equals(_classes[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < _classes.Count)
        {
            return index;
        }

        throw new InvalidInputException(
            $"{ShardSelectionOptions.SectionName}:{setting}:{name} names no class of the student (classes: {string.Join(", ", _classes)}).");
    }
}
