using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Models;
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
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

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
        var dataset = _stores.Open(_dataOptions.Dataset);
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, stoppingToken);
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).ToList();
        var eval = manifest.Where(r => r.Split == DatasetSplits.Test).ToList();
        if (eval.Count == 0)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} has no '{DatasetSplits.Test}' rows in {DatasetLayout.ManifestKey}; distillation evaluates on them.");
        }

        var preprocessing = _imageOptions.ToPreprocessingRecord();
        var reader = new ShardSetReader(_stores, _shardOptions, _loggerFactory.CreateLogger<ShardSetReader>());
        var softTargets = objective.NeedsTeacher || _shardOptions.Locations.Count > 0
            ? await reader.ReadAsync(classes, preprocessing, stoppingToken)
            : null;
        var samples = DistillationSamples.Build(dataset, train, eval, softTargets);
        // The samples hold what training needs; the row set itself need not live through the run (async locals
        // are fields of the state machine, so it would).
        var sets = softTargets?.Sets ?? [];
        softTargets = null;
        Logger.LogInformation(
            "Distilling from {Labeled} labeled images ({WithTeacher} with teacher views) and {Pseudo} pseudo-labeled images; {HeldOut} soft-targeted images of the test split left out",
            samples.Labeled.Count, samples.LabeledWithTeacher, samples.Pseudo.Count, samples.DroppedHeldOut);

        var caches = samples.Stores.Select(s => new ImageByteCache(s, s.Location.Kind == StorageLocationKind.LocalFolder ? null : _dataOptions.CacheDirectory)).ToList();
        var seed = (ulong)_loopOptions.Seed;
        var trainData = new DistillationData(caches, samples.Labeled, samples.Pseudo, classes.Count, _imageOptions, _dataOptions, _mixOptions,
            _loopOptions.BatchSize, seed, _loggerFactory.CreateLogger<DistillationData>());
        Logger.LogInformation("Batches of {Batch}: {Labeled} labeled + {Pseudo} pseudo-labeled, {Steps} steps per epoch",
            _loopOptions.BatchSize, trainData.LabeledPerBatch, trainData.PseudoPerBatch, trainData.BatchesPerEpoch);

        var evalSource = new StoreTrainingData(caches[0], eval, _imageOptions, _dataOptions, 256, training: false, seed, _loggerFactory.CreateLogger<StoreTrainingData>());
        var evalData = await InMemoryTrainingData.LoadAsync(evalSource, 256, stoppingToken);
        var evalTeacher = await AttachTeacherAsync(evalData, sets, classes.Count, device, stoppingToken);

        var spec = _options.Model with { NumClasses = classes.Count, InChannels = _imageOptions.Channels };
        var lineage = new JsonObject
        {
            ["stage"] = "distill",
            ["dataset"] = dataset.Location.ToString(),
            ["objective"] = JsonSerializer.SerializeToNode(_objectiveOptions, SnakeCase),
            ["mix"] = JsonSerializer.SerializeToNode(_mixOptions, SnakeCase),
            ["shards"] = JsonSerializer.SerializeToNode(_shardOptions, SnakeCase),
            ["shard_sets"] = JsonSerializer.SerializeToNode(sets, SnakeCase),
            ["teachers"] = new JsonArray([.. sets.Select(s => (JsonNode?)s.TeacherId).Distinct()]),
            ["labeled_images"] = samples.Labeled.Count,
            ["labeled_with_teacher"] = samples.LabeledWithTeacher,
            ["pseudo_labeled_images"] = samples.Pseudo.Count,
            ["eval_teacher"] = evalTeacher,
        };

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
                Eval = evalData,
                OutputDirectory = _options.Output,
                Classes = classes,
                Preprocessing = preprocessing,
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

    /// <summary>Runs the teacher once over the evaluation images (never over training data) for the per-epoch KL and agreement.</summary>
    private async Task<string?> AttachTeacherAsync(InMemoryTrainingData evalData, IReadOnlyList<ShardSetInfo> sets, int classes, TorchSharp.torch.Device device, CancellationToken cancellationToken)
    {
        if (string.Equals(_options.EvalTeacher, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var set = sets.Count > 0 ? sets[0] : null;
        var location = _options.EvalTeacher ?? set?.TeacherSource;
        if (location is null)
        {
            return null;
        }

        try
        {
            using var teacher = await InferenceModel.LoadAsync(_stores, location, device, cancellationToken);
            if (_options.EvalTeacher is null && set is not null && !string.Equals(teacher.Id, set.TeacherId, StringComparison.Ordinal))
            {
                Logger.LogWarning("Teacher checkpoint {Location} is not the shards' teacher {Id}; no teacher agreement is measured", location, set.TeacherId);
                return null;
            }
            if (teacher.ClassCount != classes)
            {
                throw new InvalidInputException($"Evaluation teacher '{location}' has {teacher.ClassCount} classes; the student has {classes}.");
            }
            var pixels = evalData.Pixels.ToArray();
            var sample = pixels.Length / evalData.Count;
            var side = (int)Math.Sqrt(sample / _imageOptions.Channels);
            var logits = new float[evalData.Count * classes];
            const int chunk = 256;
            for (var start = 0; start < evalData.Count; start += chunk)
            {
                var count = Math.Min(chunk, evalData.Count - start);
                var output = teacher.Forward(pixels[(start * sample)..((start + count) * sample)], count, _imageOptions.Channels, side, side);
                output.CopyTo(logits, start * classes);
            }
            evalData.WithTeacherLogits(logits, classes);
            Logger.LogInformation("Measuring teacher-student agreement on the evaluation split against {Teacher} ({Location})", teacher.Id, location);
            return location;
        }
        catch (Exception e) when (_options.EvalTeacher is null && e is ObjectStoreException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Logger.LogWarning("The shards' teacher checkpoint {Location} cannot be loaded ({Reason}); no teacher agreement is measured", location, e.Message);
            return null;
        }
    }
}
