using System.Globalization;

namespace KdData.Trainer;

/// <summary>A sweep's grid parsed from <see cref="SweepOptions.Grid"/>: its axes and every point.</summary>
public sealed class SweepGrid
{
    /// <summary>The most points a grid may have (a typo such as a missing comma-separated list rarely needs more).</summary>
    public const int MaxPoints = 10_000;

    private SweepGrid(IReadOnlyList<SweepAxis> axes, IReadOnlyList<SweepPoint> points)
    {
        Axes = axes;
        Points = points;
    }

    /// <summary>The axes, in the order given.</summary>
    public IReadOnlyList<SweepAxis> Axes { get; }

    /// <summary>Every combination of the axes' values, the last axis varying fastest.</summary>
    public IReadOnlyList<SweepPoint> Points { get; }

    /// <summary>Parses <c>Key=v1,v2,...</c> entries (values trimmed).</summary>
    /// <exception cref="FormatException">An entry has no key or no value, a key repeats, or a value repeats on an axis.</exception>
    public static SweepGrid Parse(IReadOnlyList<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var axes = new List<SweepAxis>();
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            var key = equals < 0 ? string.Empty : entry[..equals].Trim();
            if (key.Length == 0 || equals == entry.Length - 1)
            {
                throw new FormatException($"{SweepOptions.SectionName}:Grid:{i} '{entry}' is not Section:Key=v1,v2,...");
            }
            var values = entry[(equals + 1)..].Split(',').Select(v => v.Trim()).ToList();
            if (values.Any(v => v.Length == 0))
            {
                throw new FormatException($"{SweepOptions.SectionName}:Grid:{i} '{entry}' has an empty value.");
            }
            if (values.Distinct(StringComparer.Ordinal).Count() != values.Count)
            {
                throw new FormatException($"{SweepOptions.SectionName}:Grid:{i} '{entry}' lists a value twice.");
            }
            if (axes.Any(a => string.Equals(a.Key, key, StringComparison.OrdinalIgnoreCase)))
            {
                throw new FormatException($"{SweepOptions.SectionName}:Grid:{i}: the key '{key}' is already an axis.");
            }
            axes.Add(new SweepAxis(key, values));
        }

        var count = axes.Aggregate(1L, (n, a) => n * a.Values.Count);
        if (count > MaxPoints)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{SweepOptions.SectionName}:Grid has {count} points; at most {MaxPoints} are allowed."));
        }

        var points = new List<SweepPoint>((int)count);
        for (var index = 0; index < count; index++)
        {
            var coordinates = new int[axes.Count];
            var rest = index;
            for (var a = axes.Count - 1; a >= 0; a--)
            {
                coordinates[a] = rest % axes[a].Values.Count;
                rest /= axes[a].Values.Count;
            }
            var settings = axes.Select((axis, a) => (axis.Key, Value: axis.Values[coordinates[a]])).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            points.Add(new SweepPoint(index, coordinates, settings));
        }
        return new SweepGrid(axes, points);
    }
}
