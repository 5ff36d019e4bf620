using KdData.Trainer;
using YamlDotNet.RepresentationModel;

namespace KdData.Tests.InfraManifests;

/// <summary>The sweep's scale-out manifests against the sweep's own grid parser and setting check.</summary>
public sealed partial class InfraManifestTests
{
    [Fact]
    public void SweepIndexedJob_Completions_EqualTheGridsPointsAndTheIndexReachesIndex()
    {
        var job = (YamlMappingNode)Load(Path.Combine(InfraFolder, "k8s", "base", "sweep-indexed-job.yaml"))[0];
        var spec = (YamlMappingNode)job.Children[new YamlScalarNode("spec")];
        var container = Assert.Single(Containers([job]));
        var grid = SweepGrid.Parse(GridAxes(container));

        Assert.Equal("Indexed", Scalar(spec, "completionMode"));
        Assert.Equal(grid.Points.Count, int.Parse(Scalar(spec, "completions")!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(grid.Axes, a => Assert.Null(SweepSettings.Check(a.Key)));
        var args = Strings(container, "args");
        Assert.Equal(["kddata-trainer.dll", "sweep", "--index", "$(SWEEP_INDEX)"], args);
        var index = Env(container).Single(e => Scalar(e, "name") == "SWEEP_INDEX");
        Assert.Contains("batch.kubernetes.io/job-completion-index", index.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SweepAcaJob_SameGridAsTheIndexedJobWithOneFixedIndexPerJob()
    {
        var aca = Containers(Load(Path.Combine(InfraFolder, "aca", "sweep-job.yaml"))).Single();
        var k8s = Containers(Load(Path.Combine(InfraFolder, "k8s", "base", "sweep-indexed-job.yaml"))).Single();

        Assert.Equal(GridAxes(k8s), GridAxes(aca));
        Assert.Equal("${SWEEP_INDEX}", Scalar(Env(aca).Single(e => Scalar(e, "name") == "Trainer__Sweep__Index"), "value"));
        Assert.Contains("parallelism: 1", File.ReadAllText(Path.Combine(InfraFolder, "aca", "sweep-job.yaml")), StringComparison.Ordinal);
        Assert.Contains("deploy-sweep.sh", File.ReadAllText(Path.Combine(InfraFolder, "README.md")), StringComparison.Ordinal);
    }

    private static List<YamlMappingNode> Env(YamlMappingNode container) =>
        container.Children.TryGetValue(new YamlScalarNode("env"), out var env) && env is YamlSequenceNode list ? [.. list.Children.OfType<YamlMappingNode>()] : [];

    /// <summary>The grid axes a container passes as <c>Trainer__Sweep__Grid__N</c>, in index order.</summary>
    private static List<string> GridAxes(YamlMappingNode container) =>
    [
        .. Env(container)
            .Select(e => (Name: Scalar(e, "name") ?? string.Empty, Value: Scalar(e, "value") ?? string.Empty))
            .Where(e => e.Name.StartsWith("Trainer__Sweep__Grid__", StringComparison.Ordinal))
            .OrderBy(e => int.Parse(e.Name["Trainer__Sweep__Grid__".Length..], System.Globalization.CultureInfo.InvariantCulture))
            .Select(e => e.Value),
    ];
}
