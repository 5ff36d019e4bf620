using System.Text.Json;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Storage;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Distillation;

/// <summary>
/// The committed sample made ready for distillation once per test class: its 480 pool images labeled by the
/// committed teacher with the real Labeler engine (two views each), read back through <see cref="ShardSetReader"/>
/// and joined with the sample's labeled split.
/// </summary>
public sealed class SampleDistillation : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _directory = new();

    public static string DatasetFolder => Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist");

    public ObjectStoreFactory Factory { get; } = TestStores.Factory();

    public IObjectStore Dataset { get; private set; } = null!;

    public IReadOnlyList<string> Classes { get; private set; } = [];

    public IReadOnlyList<LabelRecord> Train { get; private set; } = [];

    public IReadOnlyList<LabelRecord> Test { get; private set; } = [];

    public PseudoLabelSet SoftTargets { get; private set; } = null!;

    public string ShardLocation => _directory.Path + "/labels/";

    public static ImageOptions ImageOptions { get; } = new()
    {
        OutputSize = 28,
        ResizeSize = 28,
        Channels = 1,
        Mean = [0.2860f],
        Std = [0.3530f],
    };

    public async Task InitializeAsync()
    {
        Dataset = Factory.Open(DatasetFolder + "/");
        var manifest = await DatasetManifest.ReadAsync(await Dataset.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        Classes = JsonSerializer.Deserialize<string[]>(await Dataset.ReadAllBytesAsync(DatasetLayout.ClassesKey))!;
        Train = [.. manifest.Where(r => r.Split == DatasetSplits.Train)];
        Test = [.. manifest.Where(r => r.Split == DatasetSplits.Test)];

        using var teacher = await InferenceModel.LoadAsync(Factory, LabelerSamples.TeacherRecord, CPU);
        var options = new LabelingOptions
        {
            Input = LabelerSamples.UnlabeledFolder + "/",
            Output = ShardLocation,
            Teacher = LabelerSamples.TeacherRecord,
            BatchSize = 64,
            ViewsPerImage = 2,
            ViewScaleMin = 0.64,
        };
        await new LabelingRun(Factory, teacher, options, new PartitionOptions(), new ImageOptions()).RunAsync();
        SoftTargets = await new ShardSetReader(Factory, new ShardSelectionOptions { Locations = [ShardLocation] })
            .ReadAsync(Classes, teacher.Record.Preprocessing);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _directory.Dispose();
}
