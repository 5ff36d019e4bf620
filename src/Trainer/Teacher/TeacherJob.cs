using System.Diagnostics;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Objectives;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer teacher</c>: supervised training of the teacher on a dataset's labeled
/// <c>train</c> split, evaluated each epoch on its <c>test</c> split. Resumes from the last
/// checkpoint in <see cref="TrainerOptions.Output"/>; SIGTERM finishes the step, saves and exits
/// with <see cref="ExitCodes.Interrupted"/>.
/// </summary>
public sealed class TeacherJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly TrainerOptions _options;
    private readonly TrainingDataOptions _dataOptions;
    private readonly TrainingLoopOptions _teacherOptions;
    private readonly ImageOptions _imageOptions;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public TeacherJob(
        ObjectStoreFactory stores,
        IOptions<TrainerOptions> options,
        IOptions<TrainingDataOptions> dataOptions,
        IOptions<TrainingLoopOptions> teacherOptions,
        IOptions<ImageOptions> imageOptions,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<TeacherJob>())
    {
        _stores = stores;
        _options = options.Value;
        _dataOptions = dataOptions.Value;
        _teacherOptions = teacherOptions.Value;
        _imageOptions = imageOptions.Value;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        var dataset = _stores.Open(_dataOptions.Dataset);
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, stoppingToken);
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).ToList();
        var eval = manifest.Where(r => r.Split == DatasetSplits.Test).ToList();
        if (train.Count == 0 || eval.Count == 0)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} has {train.Count} train and {eval.Count} test rows in {DatasetLayout.ManifestKey}; both are needed.");
        }

        // A local dataset is already on disk: caching it again would only double the I/O (packed shards are unpacked, though).
        var cache = ImageByteCache.ForStore(dataset, _dataOptions.CacheDirectory);
        await cache.PrepareAsync(train.Concat(eval).Select(r => r.Key), Logger, stoppingToken);
        var seed = (ulong)_teacherOptions.Seed;
        var dataLogger = _loggerFactory.CreateLogger<StoreTrainingData>();
        var trainData = new StoreTrainingData(cache, train, _imageOptions, _dataOptions, _teacherOptions.BatchSize, training: true, seed, dataLogger);
        var evalData = new StoreTrainingData(cache, eval, _imageOptions, _dataOptions, _teacherOptions.BatchSize, training: false, seed, dataLogger);
        var spec = _options.Model with { NumClasses = classes.Count, InChannels = _imageOptions.Channels };

        var progress = TrainingProgressLog.Create(Logger);
        Logger.LogInformation(
            "Training teacher {Architecture} on {Train} labeled images of {Dataset}, evaluating on {Eval}; device {Device}; output {Output}",
            spec.Name, train.Count, dataset.Location, eval.Count, device, Path.GetFullPath(_options.Output));
        var clock = Stopwatch.StartNew();
        var trainer = new TrainingLoop(_teacherOptions, new CrossEntropyObjective(_teacherOptions.LabelSmoothing), device, progress, _loggerFactory.CreateLogger<TrainingLoop>());
        var result = await trainer.RunAsync(
            new TrainingSetup
            {
                Architecture = spec,
                Train = trainData,
                Eval = evalData,
                OutputDirectory = _options.Output,
                Classes = classes,
                Preprocessing = _imageOptions.ToPreprocessingRecord(),
            },
            stoppingToken);
        progress.EndLine();

        if (trainData.SkippedImages + evalData.SkippedImages > 0)
        {
            Logger.LogWarning("Skipped {Train} train and {Eval} eval images that could not be read (see warnings above)", trainData.SkippedImages, evalData.SkippedImages);
        }

        if (result.Interrupted)
        {
            Logger.LogWarning("Interrupted after {Epochs} complete epochs; progress saved in {Output}. Run again to continue.", result.EpochsCompleted, _options.Output);
            return ExitCodes.Interrupted;
        }

        Logger.LogInformation(
            "Teacher trained: {Epochs} epochs in {Seconds:F1} s; best eval accuracy {Accuracy:F4} at epoch {BestEpoch}; best checkpoint {Best}",
            result.EpochsCompleted, clock.Elapsed.TotalSeconds, result.BestEvalAccuracy, result.BestEpoch, result.BestCheckpointPath);
        return ExitCodes.Success;
    }
}
