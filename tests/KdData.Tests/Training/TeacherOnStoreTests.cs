using System.Text.Json;
using KdData.Datasets;
using KdData.Imaging;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using KdData.Tests.Datasets;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Training;

/// <summary>The teacher stage end to end: IDX import into a store, the channel pipeline, training, checkpoint.</summary>
public sealed class TeacherOnStoreTests : IDisposable
{
    private readonly string _source = Directory.CreateTempSubdirectory("kd-teacher-src-").FullName;
    private readonly string _output = Directory.CreateTempSubdirectory("kd-teacher-out-").FullName;
    private string _folder = string.Empty;

    public void Dispose()
    {
        foreach (var dir in new[] { _source, _output, _folder })
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task RunAsync_ImportedSyntheticDataset_BeatsChanceAndSavesLoadableCheckpoint()
    {
        SyntheticIdx.Write(_source, trainCount: 240, testCount: 80);
        var store = TestStores.Local(out _folder);
        var import = IdxImportOptions.FromDirectory(_source);
        import.LabeledFraction = 0.5;
        await new IdxDatasetImporter(store).ImportAsync(import);
        var manifest = await DatasetManifest.ReadAsync(await store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var classes = JsonSerializer.Deserialize<string[]>(await store.ReadAllBytesAsync(DatasetLayout.ClassesKey))!;

        var images = new ImageOptions { OutputSize = 28, ResizeSize = 28, Channels = 1, Mean = [0.3f], Std = [0.3f] };
        var dataOptions = new TrainingDataOptions { DecodeWorkers = 2, CropPadding = 2, HorizontalFlip = false };
        var cache = new ImageByteCache(store, null);
        var options = new TrainingLoopOptions { Epochs = 3, BatchSize = 16, LearningRate = 3e-3, WarmupEpochs = 0.5, Seed = 1 };
        var train = new StoreTrainingData(cache, [.. manifest.Where(r => r.Split == DatasetSplits.Train)], images, dataOptions, options.BatchSize, training: true, seed: 1);
        var eval = new StoreTrainingData(cache, [.. manifest.Where(r => r.Split == DatasetSplits.Test)], images, dataOptions, options.BatchSize, training: false, seed: 1);

        var result = await new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(new TrainingSetup
        {
            Architecture = new ModelSpec { Name = "convnet", NumClasses = classes.Length, InChannels = 1, Width = 8 },
            Train = train,
            Eval = eval,
            OutputDirectory = _output,
            Classes = classes,
        });

        Assert.False(result.Interrupted);
        Assert.Equal(3, result.EpochsCompleted);
        Assert.True(result.BestEvalAccuracy >= 0.7, $"best eval accuracy {result.BestEvalAccuracy} (chance 0.25)");
        using var checkpoint = await CheckpointSerializer.LoadAsync(result.BestCheckpointPath!);
        Assert.Equal(classes, checkpoint.Record.Classes);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_output, ArtifactFiles.Metrics)).Length);
    }
}
