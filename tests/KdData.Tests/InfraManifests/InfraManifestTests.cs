using System.Reflection;
using System.Text.RegularExpressions;
using KdData.Labeling;
using KdData.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace KdData.Tests.InfraManifests;

/// <summary>
/// Every manifest under <c>infra/</c> parses, every setting it passes as an environment variable
/// (<c>Section__Key</c>, in container <c>env</c> lists and in ConfigMaps) names a property of an options class the
/// programs bind, and every container runs a program the image has, with a command it knows, from the one image.
/// A renamed option or a typo in a manifest would otherwise be ignored silently at run time.
/// </summary>
public sealed partial class InfraManifestTests
{
    /// <summary>Configuration sections bound by the framework rather than by an options class of ours.</summary>
    private static readonly string[] FrameworkSections = ["Logging"];

    private static readonly string InfraFolder = Path.Combine(LabelerSamples.RepoRoot, "infra");

    [Fact]
    public void Manifests_EveryYamlFile_Parses()
    {
        var files = ManifestFiles();

        Assert.True(files.Count >= 10, $"only {files.Count} manifests found under {InfraFolder}");
        Assert.All(files, file => Assert.NotEmpty(Load(file)));
    }

    [Fact]
    public void Manifests_EverySectionKeyVariable_NamesABoundOptionProperty()
    {
        var sections = OptionsSections();
        var checkedCount = 0;
        var problems = new List<string>();
        foreach (var file in ManifestFiles())
        {
            foreach (var (name, where) in Settings(Load(file)))
            {
                checkedCount++;
                if (Explain(name, sections) is { } problem)
                {
                    problems.Add($"{Path.GetRelativePath(InfraFolder, file)} ({where}): {name}: {problem}");
                }
            }
        }

        Assert.True(checkedCount >= 40, $"only {checkedCount} settings found: is the manifest walk broken?");
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Explain_MisspeltOrUnknownSettings_AreReported()
    {
        var sections = OptionsSections();

        Assert.Null(Explain("Labeler__BatchSize", sections));
        Assert.Null(Explain("Trainer__Model__Name", sections));
        Assert.Null(Explain("Labeler__ClassThresholds__Coat", sections));
        Assert.NotNull(Explain("Labeler__BatchSzie", sections));
        Assert.NotNull(Explain("Labler__BatchSize", sections));
        Assert.NotNull(Explain("Labeler__BatchSize__Extra", sections));
        Assert.Null(Explain("Trainer__Distill__Shards__Locations__0", sections));
        Assert.Null(Explain("Trainer__Distill__Epochs", sections));
        Assert.NotNull(Explain("Trainer__Distill__Shards__Locations__first", sections));
        Assert.NotNull(Explain("Trainer__Distill__Epochz", sections));
    }

    [Fact]
    public void Manifests_EveryKdDataContainer_RunsAProgramOfTheImageWithAKnownCommand()
    {
        var programs = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            ["kddata-labeler.dll"] = [],
            ["kddata-trainer.dll"] = TrainerCommands(),
        };
        var images = new HashSet<string>(StringComparer.Ordinal);
        var containers = 0;
        var problems = new List<string>();
        foreach (var file in ManifestFiles())
        {
            foreach (var container in Containers(Load(file)))
            {
                var args = Strings(container, "args");
                var program = args.FirstOrDefault(a => a.StartsWith("kddata-", StringComparison.Ordinal));
                if (program is null)
                {
                    continue; // a helper container (curl, az cli)
                }

                containers++;
                var where = $"{Path.GetRelativePath(InfraFolder, file)}: container {Scalar(container, "name")}";
                if (!Strings(container, "command").SequenceEqual(["dotnet"]))
                {
                    problems.Add($"{where}: command must be [\"dotnet\"] (the image's entry point runs dlls)");
                }

                if (!programs.TryGetValue(program, out var commands))
                {
                    problems.Add($"{where}: {program} is not a program of the image (expected one of {string.Join(", ", programs.Keys)})");
                }
                else if (commands.Length > 0 && (args.Count < 2 || !commands.Contains(args[1])))
                {
                    problems.Add($"{where}: {program} needs a command, one of {string.Join(", ", commands)}; got [{string.Join(", ", args)}]");
                }

                var image = Scalar(container, "image") ?? string.Empty;
                images.Add(image.Contains('/', StringComparison.Ordinal) ? image : "kustomize:" + image);
                var sections = Settings([container]).Select(s => s.Name.Split("__")[0]).ToHashSet(StringComparer.Ordinal);
                var foreign = program == "kddata-labeler.dll" ? new[] { "Trainer" } : ["Labeler"];
                problems.AddRange(sections.Intersect(foreign).Select(s => $"{where}: sets {s}__* settings, which {program} does not read"));
            }
        }

        Assert.True(containers >= 6, $"only {containers} KdData containers found");
        // Kubernetes manifests name the image "kddata" (kustomization.yaml rewrites it); ACA manifests give it in full.
        var full = images.Where(i => !i.StartsWith("kustomize:", StringComparison.Ordinal)).ToList();
        Assert.Equal(["kustomize:kddata"], images.Except(full));
        Assert.Single(full.Distinct());
        Assert.EndsWith("/kddata:" + KustomizeTag(), full[0], StringComparison.Ordinal);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>Why <paramref name="variable"/> (<c>Section__Key</c>) names no bound option property, or null when it does.</summary>
    private static string? Explain(string variable, IReadOnlyDictionary<string, Type[]> sections)
    {
        var path = variable.Split("__");
        if (FrameworkSections.Contains(path[0], StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        // The longest section that prefixes the path (Trainer:Data before Trainer).
        for (var length = path.Length - 1; length >= 1; length--)
        {
            if (sections.TryGetValue(string.Join(':', path[..length]), out var types))
            {
                // A section may be bound to several classes (the training loop's settings share a stage's section).
                var problems = types.Select(t => ExplainProperty(t, path[length..])).ToList();
                return problems.Any(p => p is null) ? null : string.Join("; ", problems);
            }
        }

        return $"no options class binds section '{path[0]}' (known: {string.Join(", ", sections.Keys.Order(StringComparer.Ordinal))})";
    }

    private static string? ExplainProperty(Type type, string[] rest)
    {
        var property = type.GetProperty(rest[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null)
        {
            return $"{type.Name} has no property '{rest[0]}'";
        }

        if (rest.Length == 1)
        {
            return null;
        }

        var valueType = property.PropertyType;
        if (valueType.IsGenericType && valueType.GetInterfaces().Append(valueType).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>)))
        {
            return rest.Length == 2 ? null : $"{type.Name}.{property.Name} is a dictionary of plain values";
        }

        if (valueType.IsGenericType && valueType.GetGenericTypeDefinition() == typeof(List<>))
        {
            // A list element by index (Locations__0); elements are plain values or option objects.
            var element = valueType.GetGenericArguments()[0];
            if (!int.TryParse(rest[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                return $"{type.Name}.{property.Name} is a list: '{rest[1]}' is not an index";
            }
            return rest.Length == 2 ? null
                : element.IsClass && element != typeof(string) ? ExplainProperty(element, rest[2..])
                : $"{type.Name}.{property.Name} holds plain values";
        }

        return valueType.IsClass && valueType != typeof(string) && !valueType.IsArray
            ? ExplainProperty(valueType, rest[1..])
            : $"{type.Name}.{property.Name} is a plain value, it has no '{rest[1]}'";
    }

    /// <summary>Options classes by configuration section (<c>SectionName</c>), from KdData.Core and the Trainer program.</summary>
    private static Dictionary<string, Type[]> OptionsSections()
    {
        var assemblies = new[] { typeof(LabelingOptions).Assembly, Assembly.LoadFrom(ProgramDll("Trainer", "kddata-trainer.dll")) };
        var sections = new Dictionary<string, Type[]>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in assemblies.SelectMany(a => a.GetExportedTypes()))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string section)
            {
                sections[section] = [.. sections.GetValueOrDefault(section, []), type];
            }
        }

        // The distill stage binds the training loop's settings from its own section too (TrainerHostExtensions.AddDistillJob).
        var distill = "Trainer:Distill";
        sections[distill] = [.. sections[distill], typeof(KdData.Training.TrainingLoopOptions)];

        Assert.Contains("Labeler", sections.Keys);
        Assert.Contains("Trainer:Import", sections.Keys);
        return sections;
    }

    /// <summary>The Trainer's commands, as its command line defines them (its public string constants).</summary>
    private static string[] TrainerCommands()
    {
        var type = Assembly.LoadFrom(ProgramDll("Trainer", "kddata-trainer.dll")).GetType("KdData.Trainer.TrainerCommands");
        Assert.NotNull(type);
        var commands = type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToArray();
        Assert.Contains("import", commands);
        return commands;
    }

    private static string ProgramDll(string project, string dll)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory);
        var path = Path.Combine(LabelerSamples.RepoRoot, "src", project, "bin", tfm.Parent!.Name, tfm.Name, dll);
        Assert.True(File.Exists(path), $"{path} is not built (the test project references src/{project} so it is built first)");
        return path;
    }

    private static string KustomizeTag()
    {
        var top = (YamlMappingNode)Load(Path.Combine(InfraFolder, "k8s", "base", "kustomization.yaml"))[0];
        var image = ((YamlSequenceNode)top.Children[new YamlScalarNode("images")]).Children.OfType<YamlMappingNode>().Single(i => Scalar(i, "name") == "kddata");
        return Scalar(image, "newTag") ?? string.Empty;
    }

    private static List<string> ManifestFiles() =>
        [.. Directory.EnumerateFiles(InfraFolder, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    private static List<YamlNode> Load(string file)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(file)))
        {
            stream.Load(reader);
        }

        return [.. stream.Documents.Select(d => d.RootNode)];
    }

    /// <summary>Settings set as environment variables: container <c>env</c> entries and ConfigMap data keys.</summary>
    private static IEnumerable<(string Name, string Where)> Settings(IEnumerable<YamlNode> roots)
    {
        foreach (var node in roots.SelectMany(r => r.AllNodes).OfType<YamlMappingNode>())
        {
            if (Scalar(node, "kind") == "ConfigMap" && node.Children.TryGetValue(new YamlScalarNode("data"), out var data) && data is YamlMappingNode map)
            {
                foreach (var key in map.Children.Keys.OfType<YamlScalarNode>())
                {
                    if (key.Value is { } name && SectionKey().IsMatch(name))
                    {
                        yield return (name, "ConfigMap data");
                    }
                }
            }

            if (node.Children.TryGetValue(new YamlScalarNode("env"), out var env) && env is YamlSequenceNode entries)
            {
                foreach (var entry in entries.Children.OfType<YamlMappingNode>())
                {
                    if (Scalar(entry, "name") is { } name && SectionKey().IsMatch(name))
                    {
                        yield return (name, $"env of {Scalar(node, "name")}");
                    }
                }
            }
        }
    }

    private static IEnumerable<YamlMappingNode> Containers(IEnumerable<YamlNode> roots) =>
        roots.SelectMany(r => r.AllNodes).OfType<YamlMappingNode>().Where(m => m.Children.ContainsKey(new YamlScalarNode("image")));

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static List<string> Strings(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode list
            ? [.. list.Children.OfType<YamlScalarNode>().Select(s => s.Value ?? string.Empty)]
            : [];

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]*(__[A-Za-z0-9]+)+$")]
    private static partial Regex SectionKey();
}
