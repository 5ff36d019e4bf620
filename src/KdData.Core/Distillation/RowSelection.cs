using System.Globalization;
using System.Runtime.InteropServices;
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
    /// <param name="rows">Every row read.</param>
    /// <param name="latest">Indices (into <paramref name="rows"/>) of the rows that are their image's latest labeling, accepted and rejected alike.</param>
    /// <param name="superseded">Per class, rows dropped earlier because a later commit relabeled their image.</param>
    /// <param name="errorImages">Images whose latest commit holds an error row (for the report).</param>
    /// <returns>The kept rows ordered by source, key and view (moved into a new, exactly sized store: <paramref name="rows"/>
    /// is left empty), and the per-class report.</returns>
    public (SoftTargetColumns Kept, SelectionReport Report) Apply(SoftTargetColumns rows, IReadOnlyList<int> latest, int[] superseded, int errorImages)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(latest);
        var count = _classes.Count;
        var accepted = new int[count];
        var rejected = new int[count];
        var included = new int[count];
        var below = new int[count];
        var passed = new List<int>[count];
        for (var c = 0; c < count; c++)
        {
            passed[c] = [];
        }

        foreach (var row in latest)
        {
            var c = rows.Predicted(row);
            if (rows.FromRejected(row))
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

            if (rows.Confidence(row) < _thresholds[c])
            {
                below[c]++;
            }
            else
            {
                passed[c].Add(row);
            }
        }

        var caps = ResolveCaps(passed);
        var kept = new List<int>();
        var entries = new ClassSelection[count];
        for (var c = 0; c < count; c++)
        {
            var classRows = passed[c];
            var overCap = 0;
            if (caps[c] is { } cap && classRows.Count > cap)
            {
                // Most confident first; ties broken by identity so the choice does not depend on file order.
                classRows.Sort((a, b) => rows.Confidence(b) != rows.Confidence(a) ? rows.Confidence(b).CompareTo(rows.Confidence(a)) : rows.Compare(a, b));
                overCap = classRows.Count - cap;
                classRows.RemoveRange(cap, overCap);
            }

            kept.AddRange(classRows);
            entries[c] = new ClassSelection(
                _classes[c], accepted[c], rejected[c], included[c], superseded[c], below[c], overCap, _thresholds[c], caps[c], classRows.Count);
        }

        kept.Sort(rows.Compare);
        return (rows.MoveTo(CollectionsMarshal.AsSpan(kept)), new SelectionReport(entries, _includeRejected, errorImages));
    }

    private int?[] ResolveCaps(List<int>[] passed)
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
