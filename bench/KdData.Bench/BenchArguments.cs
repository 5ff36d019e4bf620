using System.Globalization;

namespace KdData.Bench;

/// <summary>
/// <c>--name value</c> pairs after the command word. Deliberately tiny: the bench has a handful of
/// switches and the repository does not reference System.CommandLine.
/// </summary>
internal sealed class BenchArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);

    private BenchArguments(string command) => Command = command;

    /// <summary>The first argument, e.g. <c>labeler</c>.</summary>
    public string Command { get; }

    /// <exception cref="ArgumentException">An option without a value, or not of the form <c>--name</c>.</exception>
    public static BenchArguments Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = new BenchArguments(args.Count > 0 ? args[0] : string.Empty);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                throw new ArgumentException($"Argument '{arg}' is not an option; expected --name value.");
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                parsed._values[arg[2..equals]] = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                parsed._values[arg[2..]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"Option '{arg}' has no value.");
            }
        }

        return parsed;
    }

    public int GetInt(string name, int fallback, int min, int max)
    {
        if (!TryGet(name, out var text))
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"--{name} is '{text}'; expected a whole number in [{min}, {max}].");
        }

        return value;
    }

    public double GetDouble(string name, double fallback, double min, double max)
    {
        if (!TryGet(name, out var text))
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw new ArgumentException($"--{name} is '{text}'; expected a number in [{min}, {max}].");
        }

        return value;
    }

    public bool GetBool(string name, bool fallback)
    {
        if (!TryGet(name, out var text))
        {
            return fallback;
        }

        return bool.TryParse(text, out var value)
            ? value
            : throw new ArgumentException($"--{name} is '{text}'; expected true or false.");
    }

    public string? GetString(string name) => TryGet(name, out var text) ? text : null;

    /// <summary>Fails on options nobody asked for, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
        }
    }

    private bool TryGet(string name, out string text)
    {
        _read.Add(name);
        if (_values.TryGetValue(name, out var value))
        {
            text = value;
            return true;
        }

        text = string.Empty;
        return false;
    }
}
