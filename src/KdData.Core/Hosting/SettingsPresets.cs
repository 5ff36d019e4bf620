using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace KdData.Hosting;

/// <summary>
/// Named presets: a recipe's settings in one file, <c>presets/&lt;name&gt;.json</c> (appsettings format), chosen with
/// <c>--preset name</c> (<see cref="Key"/>). The preset sits over <c>appsettings.json</c> and under the environment and
/// the command line, so any of its settings can still be changed for one run. The folder is the working directory's
/// <c>presets/</c> (the repository root, <c>/app</c> in the container), else the copy the build puts next to the program.
/// </summary>
public static class SettingsPresets
{
    /// <summary>The configuration key naming the preset.</summary>
    public const string Key = "Trainer:Preset";

    /// <summary>The folder presets are read from, under the working directory or the program's folder.</summary>
    public const string Folder = "presets";

    /// <summary>
    /// Adds the preset <see cref="Key"/> names, if any, as a configuration source right above the appsettings files.
    /// Returns its file, or null when no preset is set.
    /// </summary>
    /// <exception cref="ArgumentException">The preset names no file; the message lists the presets there are.</exception>
    public static string? Apply(IConfigurationManager configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = ((IConfiguration)configuration)[Key];
        if (string.IsNullOrWhiteSpace(name) || string.Equals(name, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var folders = new[] { Path.Combine(contentRoot, Folder), Path.Combine(AppContext.BaseDirectory, Folder) };
        var folder = folders.FirstOrDefault(f => name.IndexOfAny(['/', '\\']) < 0 && File.Exists(Path.Combine(f, name + ".json")))
            ?? throw new ArgumentException($"{Key} '{name}' is not a preset; the presets are {string.Join(", ", Names(folders))} (files {Folder}/<name>.json).");
        var file = Path.Combine(folder, name + ".json");

        // Above the last appsettings file, below the environment and the command line.
        var sources = configuration.Sources;
        var index = sources.Select((s, i) => (s, i)).LastOrDefault(p => p.s is JsonConfigurationSource).i;
        sources.Insert(index + 1, new JsonConfigurationSource { Path = name + ".json", Optional = false, FileProvider = new PhysicalFileProvider(folder) });
        return file;
    }

    private static List<string> Names(string[] folders)
    {
        var names = folders.Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*.json"))
            .Select(f => Path.GetFileNameWithoutExtension(f))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        return names.Count > 0 ? names : ["(none found)"];
    }
}
