using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>--preset</c>: named recipes in <c>presets/</c>, and that each stays the recipe its bench measures.</summary>
public sealed class SettingsPresetTests
{
    [Fact]
    public async Task RunAsync_TeacherWithPreset_TrainsWithThePresetsSettingsAndSwitchesStillWin()
    {
        using var work = new TempDirectory();
        using var error = new StringWriter();

        var code = await TrainerCommandLine.RunAsync(
            ["teacher", "--preset", "fmnist-supervised", "--dataset", SampleDistillation.DatasetFolder + "/", "--output", work.Path,
             "--epochs", "1", "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2"],
            TextWriter.Null, error);

        Assert.True(code == ExitCodes.Success, error.ToString());
        var training = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement.GetProperty("training");
        var options = training.GetProperty("options");
        Assert.Equal("sgd", options.GetProperty("optimizer").GetString());
        Assert.Equal(0.05, options.GetProperty("learning_rate").GetDouble());
        Assert.Equal(128, options.GetProperty("batch_size").GetInt32());
        Assert.Equal(1, options.GetProperty("epochs").GetInt32()); // --epochs over the preset's 40
        Assert.Equal(32, JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement
            .GetProperty("architecture").GetProperty("width").GetInt32());
    }

    [Fact]
    public async Task RunAsync_UnknownPreset_ExitsTwoNamingItAndTheKnownOnes()
    {
        using var work = new TempDirectory();
        using var error = new StringWriter();

        var code = await TrainerCommandLine.RunAsync(["teacher", "--preset", "fmnist-best", "--output", work.Path], TextWriter.Null, error);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("'fmnist-best' is not a preset", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("fmnist-supervised", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(work.Path));
    }

    /// <summary>A preset is the recipe its bench script runs, setting for setting, so the published figure is the preset's.</summary>
    [Theory]
    [InlineData("fmnist-supervised", "bench/training/recipe.sh", TrainerCommands.Teacher)]
    [InlineData("fmnist-fixmatch", "bench/training/fixmatch.sh", TrainerCommands.Distill)]
    public void Preset_SameSettingsAsItsBenchScript(string preset, string script, string command)
    {
        var expected = Flatten(JsonDocument.Parse(File.ReadAllText(Path.Combine(LabelerSamples.RepoRoot, SettingsPresets.Folder, preset + ".json"))).RootElement, "");
        var text = File.ReadAllText(Path.Combine(LabelerSamples.RepoRoot, script));
        var recipe = Regex.Match(text, @"^recipe=\((.*?)\)$", RegexOptions.Multiline | RegexOptions.Singleline).Groups[1].Value;
        var tokens = recipe.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim('"')).ToList();
        var switches = TrainerCommands.Find(command)!.Switches.ToDictionary(s => s.Name, s => s.ConfigurationKey);
        var actual = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Contains('=', StringComparison.Ordinal))
            {
                var (key, value) = (tokens[i][2..tokens[i].IndexOf('=', StringComparison.Ordinal)], tokens[i][(tokens[i].IndexOf('=', StringComparison.Ordinal) + 1)..]);
                actual[key] = value.Trim('"');
            }
            else
            {
                actual[switches[tokens[i]]] = tokens[++i];
            }
        }
        // The scripts give the width and epochs as variables with these defaults.
        actual = actual.ToDictionary(p => p.Key, p => p.Value switch { "$width" => "64", "$epochs" => "50", "$magnitude" => "5", _ => p.Value }, StringComparer.OrdinalIgnoreCase);

        Assert.Equal(expected.Keys.Order(StringComparer.OrdinalIgnoreCase), actual.Keys.Order(StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in expected)
        {
            Assert.True(Same(value, actual[key]), $"{preset}: {key} is {value}, {script} runs {actual[key]}");
        }
    }

    private static Dictionary<string, string> Flatten(JsonElement element, string prefix)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in element.EnumerateObject())
        {
            var key = prefix.Length == 0 ? property.Name : $"{prefix}:{property.Name}";
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var (k, v) in Flatten(property.Value, key))
                {
                    result[k] = v;
                }
            }
            else
            {
                result[key] = property.Value.ToString();
            }
        }
        return result;
    }

    private static bool Same(string a, string b) =>
        string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
        || (double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out var y) && x == y);
}
