using Microsoft.Extensions.Configuration;

namespace KdData.Hosting;

/// <summary>
/// Section roots that moved, and the shim that keeps the old names working for one release. The rule the new names
/// follow (docs/configuration.md): a program's own settings sit under its name (<c>Labeler:…</c>,
/// <c>Trainer:&lt;Command&gt;:…</c> and the Trainer's shared <c>Trainer:Data</c>, <c>Trainer:Model</c>,
/// <c>Trainer:Objective</c>); only what both programs read (<c>Torch</c>, <c>Storage</c>, <c>Imaging</c>,
/// <c>Telemetry</c>, <c>Logging</c>) sits at the top.
/// </summary>
/// <remarks>
/// A key under an old root (from any source: appsettings, <c>Export__Format</c> in the environment,
/// <c>--Export:Format=…</c>) is copied to its new name with a warning naming both. Where both names are set, the one
/// from the later source wins, as for any setting (command line over environment over appsettings), and on a tie the
/// new name: so an old name in a deployment's environment still overrides the new name's default in appsettings.json.
/// </remarks>
public static class DeprecatedSettingRoots
{
    /// <summary>Old root → new root. Remove an entry one release after it was added.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Renames { get; } =
    [
        KeyValuePair.Create("Export", "Trainer:Export"),
        KeyValuePair.Create("Quantize", "Trainer:Quantize"),
        KeyValuePair.Create("Evaluate", "Trainer:Evaluate"),
        KeyValuePair.Create("Import", "Trainer:Import"),
        KeyValuePair.Create("Partition", "Labeler:Partition"),
    ];

    /// <summary>
    /// Copies every value set under an old root to its new name (as the last configuration source, so it wins where
    /// the old name should) and returns one warning per old key, naming the key as it was set and its new name.
    /// </summary>
    public static IReadOnlyList<string> Apply(IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var providers = ((IConfigurationRoot)configuration).Providers.ToList();
        var copies = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var warnings = new List<string>();
        foreach (var (key, value) in ((IConfiguration)configuration).AsEnumerable().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (value is null || NewName(key) is not { } newKey)
            {
                continue; // a section, or a key under no old root
            }

            var oldSource = LastSourceSetting(providers, key);
            var newSource = LastSourceSetting(providers, newKey);
            if (newSource < oldSource)
            {
                copies[newKey] = value;
                warnings.Add($"setting '{key}' is deprecated: use '{newKey}' (the old name is read until the next release).");
            }
            else
            {
                warnings.Add($"setting '{key}' is deprecated and ignored: '{newKey}' is set too and wins (the old name is read until the next release).");
            }
        }

        if (copies.Count > 0)
        {
            configuration.AddInMemoryCollection(copies);
        }

        return warnings;
    }

    /// <summary>The new name of <paramref name="key"/>, or null when it sits under no old root.</summary>
    public static string? NewName(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        foreach (var (oldRoot, newRoot) in Renames)
        {
            if (key.Length > oldRoot.Length && key[oldRoot.Length] == ':' && key.StartsWith(oldRoot, StringComparison.OrdinalIgnoreCase))
            {
                return newRoot + key[oldRoot.Length..];
            }
        }

        return null;
    }

    // Index of the last source that sets the key (later sources win), -1 when none does.
    private static int LastSourceSetting(List<IConfigurationProvider> providers, string key)
    {
        for (var i = providers.Count - 1; i >= 0; i--)
        {
            if (providers[i].TryGet(key, out var value) && value is not null)
            {
                return i;
            }
        }

        return -1;
    }
}
