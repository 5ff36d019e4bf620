using System.Diagnostics;
using System.Text.Json.Nodes;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Objectives;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer distill</c>: offline knowledge distillation. Trains a student on the dataset's labeled train
/// split plus the pool images a teacher pseudo-labeled (committed Labeler shards, re-thresholded at load), through
/// <see cref="DistillationData"/>, with the configured objective (Hinton KD by default) and curriculum; evaluates on the
/// test split each epoch (accuracy, and teacher-student KL / agreement when the teacher checkpoint is reachable).
/// The teacher is never run for training. Resumes from <c>last</c>; SIGTERM saves and exits 3.
/// </summary>
public sealed class DistillJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly DistillOptions _options;
    private readonly TrainingLoopOptions _loopOptions;
    private readonly TrainingDataOptions _dataOptions;
    private readonly ObjectiveOptions _objectiveOptions;
    private readonly ShardSelectionOptions _shardOptions;
    private readonly DistillationMixOptions _mixOptions;
    private readonly ImageOptions _imageOptions;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public DistillJob(
        ObjectStoreFactory stores,
        IOptions<DistillOptions> options,
        IOptions<TrainingLoopOptions> loopOptions,
        IOptions<TrainingDataOptions> dataOptions,
        IOptions<ObjectiveOptions> objectiveOptions,
        IOptions<ShardSelectionOptions> shardOptions,
        IOptions<DistillationMixOptions> mixOptions,
        IOptions<ImageOptions> imageOptions,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<DistillJob>())
    {
        _stores = stores;
        _options = options.Value;
        _loopOptions = loopOptions.Value;
        _dataOptions = dataOptions.Value;
        _objectiveOptions = objectiveOptions.Value;
        _shardOptions = shardOptions.Value;
        _mixOptions = mixOptions.Value;
        _imageOptions = imageOptions.Value;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        var objective = TrainingObjectives.Create(_objectiveOptions);
        var curriculum = new DistillationCurriculum(_objectiveOptions.Curriculum);
        var inputs = await DistillationInputs.LoadAsync(_stores, objective, _objectiveOptions, _dataOptions, _shardOptions, _mixOptions, _imageOptions,
            _loopOptions.BatchSize, _loopOptions.Seed, _options.EvalTeacher, device, _loggerFactory, stoppingToken);
        var trainData = inputs.Train;
        var spec = _options.Model with { NumClasses = inputs.Classes.Count, InChannels = _imageOptions.Channels };
        var lineage = new JsonObject { ["stage"] = "distill" };
        foreach (var (key, value) in inputs.Lineage)
        {
            lineage[key] = value?.DeepClone();
        }

        var progress = TrainingProgressLog.Create(Logger);
        Logger.LogInformation("Training student {Architecture} with objective {Objective}; device {Device}; output {Output}",
            spec.Name, objective.Name, device, Path.GetFullPath(_options.Output));
        var clock = Stopwatch.StartNew();
        var loop = new TrainingLoop(_loopOptions, objective, device, progress, _loggerFactory.CreateLogger<TrainingLoop>());
        var result = await loop.RunAsync(
            new TrainingSetup
            {
                Architecture = spec,
                Train = trainData,
                Eval = inputs.Eval,
                OutputDirectory = _options.Output,
                Classes = inputs.Classes,
                Preprocessing = inputs.Preprocessing,
                Schedule = curriculum.At,
                Lineage = lineage,
            },
            stoppingToken);
        progress.EndLine();
        if (trainData.SkippedImages > 0)
        {
            Logger.LogWarning("Skipped {Count} training images that could not be read (see warnings above)", trainData.SkippedImages);
        }

        if (result.Interrupted)
        {
            Logger.LogWarning("Interrupted after {Epochs} complete epochs; progress saved in {Output}. Run again to continue.", result.EpochsCompleted, _options.Output);
            return ExitCodes.Interrupted;
        }

        Logger.LogInformation(
            "Student distilled: {Epochs} epochs in {Seconds:F1} s; best eval accuracy {Accuracy:F4} at epoch {BestEpoch}; last checkpoint {Last}",
            result.EpochsCompleted, clock.Elapsed.TotalSeconds, result.BestEvalAccuracy, result.BestEpoch, result.LastCheckpointPath);
        return ExitCodes.Success;
    }
}
