using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Models;
using KdData.Objectives;
using KdData.Storage;
using KdData.Training;

namespace KdData.Trainer;

/// <summary>
/// The distill stage's data path for the stages that fine-tune with knowledge distillation (the KD fine-tune after each
/// prune step): the same pieces, in the same order, with the same settings as <see cref="DistillJob"/> (which still
/// assembles them itself; moving it onto this class is left for after the online-teacher work on DistillJob has
/// landed, to keep the two changes from colliding): the dataset's labeled train split plus the pool images a teacher pseudo-labeled
/// (committed Labeler shards, re-thresholded at load) as <see cref="DistillationData"/> mixed batches, the test split in
/// memory for the per-epoch evaluation (with the teacher's logits when its checkpoint is reachable), and the lineage
/// every checkpoint record gets.
/// </summary>
internal sealed class DistillationInputs
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private DistillationInputs(IReadOnlyList<string> classes, PreprocessingRecord preprocessing, DistillationData train,
        InMemoryTrainingData eval, JsonObject lineage)
    {
        Classes = classes;
        Preprocessing = preprocessing;
        Train = train;
        Eval = eval;
        Lineage = lineage;
    }

    /// <summary>The dataset's class names, in logit order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The preprocessing the batches go through.</summary>
    public PreprocessingRecord Preprocessing { get; }

    /// <summary>Mixed labeled + pseudo-labeled training batches.</summary>
    public DistillationData Train { get; }

    /// <summary>The test split, in memory.</summary>
    public InMemoryTrainingData Eval { get; }

    /// <summary>What the data derives from (dataset, objective, mix, shard sets, teachers, counts); a stage adds its own fields to a copy.</summary>
    public JsonObject Lineage { get; }

    /// <summary>
    /// Reads the dataset and the shards and prepares the batches. <c>evalTeacher</c> is the teacher checkpoint for the
    /// evaluation split's KL and agreement: <c>null</c> = the shards' teacher, <c>none</c> = off.
    /// </summary>
    /// <exception cref="InvalidInputException">A missing dataset or split, or shards that do not fit it.</exception>
    public static async Task<DistillationInputs> LoadAsync(
        ObjectStoreFactory stores,
        ITrainingObjective objective,
        ObjectiveOptions objectiveOptions,
        TrainingDataOptions dataOptions,
        ShardSelectionOptions shardOptions,
        DistillationMixOptions mixOptions,
        ImageOptions imageOptions,
        int batchSize,
        int seed,
        string? evalTeacher,
        TorchSharp.torch.Device device,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken = default)
    {
        var logger = loggerFactory.CreateLogger<DistillationInputs>();
        var dataset = stores.Open(dataOptions.Dataset);
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, cancellationToken).ConfigureAwait(false);
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).ToList();
        var eval = manifest.Where(r => r.Split == DatasetSplits.Test).ToList();
        if (eval.Count == 0)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} has no '{DatasetSplits.Test}' rows in {DatasetLayout.ManifestKey}; distillation evaluates on them.");
        }

        var preprocessing = imageOptions.ToPreprocessingRecord();
        var reader = new ShardSetReader(stores, shardOptions, loggerFactory.CreateLogger<ShardSetReader>());
        var softTargets = objective.NeedsTeacher || shardOptions.Locations.Count > 0
            ? await reader.ReadAsync(classes, preprocessing, cancellationToken).ConfigureAwait(false)
            : null;
        var samples = DistillationSamples.Build(dataset, train, eval, softTargets);
        // The samples hold what training needs; the row set itself need not live through the run (async locals
        // are fields of the state machine, so it would).
        var sets = softTargets?.Sets ?? [];
        softTargets = null;
        logger.LogInformation(
            "Distilling from {Labeled} labeled images ({WithTeacher} with teacher views) and {Pseudo} pseudo-labeled images; {HeldOut} soft-targeted images of the test split left out",
            samples.Labeled.Count, samples.LabeledWithTeacher, samples.Pseudo.Count, samples.DroppedHeldOut);

        var caches = samples.Stores.Select(s => new ImageByteCache(s, s.Location.Kind == StorageLocationKind.LocalFolder ? null : dataOptions.CacheDirectory)).ToList();
        var trainData = new DistillationData(caches, samples.Labeled, samples.Pseudo, classes.Count, imageOptions, dataOptions, mixOptions,
            batchSize, (ulong)seed, loggerFactory.CreateLogger<DistillationData>());
        logger.LogInformation("Batches of {Batch}: {Labeled} labeled + {Pseudo} pseudo-labeled, {Steps} steps per epoch",
            batchSize, trainData.LabeledPerBatch, trainData.PseudoPerBatch, trainData.BatchesPerEpoch);

        var evalSource = new StoreTrainingData(caches[0], eval, imageOptions, dataOptions, 256, training: false, (ulong)seed, loggerFactory.CreateLogger<StoreTrainingData>());
        var evalData = await InMemoryTrainingData.LoadAsync(evalSource, 256, cancellationToken).ConfigureAwait(false);
        var evalTeacherLocation = await AttachTeacherAsync(stores, evalData, sets, classes.Count, imageOptions.Channels, evalTeacher, device, logger, cancellationToken).ConfigureAwait(false);

        var lineage = new JsonObject
        {
            ["dataset"] = dataset.Location.ToString(),
            ["objective"] = JsonSerializer.SerializeToNode(objectiveOptions, SnakeCase),
            ["mix"] = JsonSerializer.SerializeToNode(mixOptions, SnakeCase),
            ["shards"] = JsonSerializer.SerializeToNode(shardOptions, SnakeCase),
            ["shard_sets"] = JsonSerializer.SerializeToNode(sets, SnakeCase),
            ["teachers"] = new JsonArray([.. sets.Select(s => (JsonNode?)s.TeacherId).Distinct()]),
            ["labeled_images"] = samples.Labeled.Count,
            ["labeled_with_teacher"] = samples.LabeledWithTeacher,
            ["pseudo_labeled_images"] = samples.Pseudo.Count,
            ["eval_teacher"] = evalTeacherLocation,
        };
        return new DistillationInputs(classes, preprocessing, trainData, evalData, lineage);
    }

    /// <summary>Runs the teacher once over the evaluation images (never over training data) for the per-epoch KL and agreement.</summary>
    private static async Task<string?> AttachTeacherAsync(ObjectStoreFactory stores, InMemoryTrainingData evalData, IReadOnlyList<ShardSetInfo> sets,
        int classes, int channels, string? evalTeacher, TorchSharp.torch.Device device, ILogger logger, CancellationToken cancellationToken)
    {
        if (string.Equals(evalTeacher, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var set = sets.Count > 0 ? sets[0] : null;
        var location = evalTeacher ?? set?.TeacherSource;
        if (location is null)
        {
            return null;
        }

        try
        {
            using var teacher = await InferenceModel.LoadAsync(stores, location, device, cancellationToken).ConfigureAwait(false);
            if (evalTeacher is null && set is not null && !string.Equals(teacher.Id, set.TeacherId, StringComparison.Ordinal))
            {
                logger.LogWarning("Teacher checkpoint {Location} is not the shards' teacher {Id}; no teacher agreement is measured", location, set.TeacherId);
                return null;
            }
            if (teacher.ClassCount != classes)
            {
                throw new InvalidInputException($"Evaluation teacher '{location}' has {teacher.ClassCount} classes; the student has {classes}.");
            }
            var pixels = evalData.Pixels.ToArray();
            var sample = pixels.Length / evalData.Count;
            var side = (int)Math.Sqrt(sample / channels);
            var logits = new float[evalData.Count * classes];
            const int chunk = 256;
            for (var start = 0; start < evalData.Count; start += chunk)
            {
                var count = Math.Min(chunk, evalData.Count - start);
                var output = teacher.Forward(pixels[(start * sample)..((start + count) * sample)], count, channels, side, side);
                output.CopyTo(logits, start * classes);
            }
            evalData.WithTeacherLogits(logits, classes);
            logger.LogInformation("Measuring teacher-student agreement on the evaluation split against {Teacher} ({Location})", teacher.Id, location);
            return location;
        }
        catch (Exception e) when (evalTeacher is null && e is ObjectStoreException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            logger.LogWarning("The shards' teacher checkpoint {Location} cannot be loaded ({Reason}); no teacher agreement is measured", location, e.Message);
            return null;
        }
    }
}
