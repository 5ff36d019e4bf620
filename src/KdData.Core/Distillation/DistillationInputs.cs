using KdData.Datasets;
using KdData.Hosting;
using KdData.Models;
using KdData.PackedImages;
using KdData.Records;
using KdData.Storage;
using KdData.Training;
using Microsoft.Extensions.Logging;

namespace KdData.Distillation;

/// <summary>
/// The distill stage's data path, shared by every stage that trains with knowledge distillation: <c>distill</c>, the
/// KD fine-tune after each <c>prune</c> step and quantization-aware training (<c>quantize --method qat</c>); it lives
/// in Core so that those hosts only say what to load (<see cref="DistillationInputOptions"/>). It reads the dataset's
/// labeled train split plus the pool images a teacher pseudo-labeled (committed Labeler shards, re-thresholded at
/// load) into <see cref="DistillationData"/> mixed batches, loads the evaluation split into memory for the per-epoch
/// evaluation (with the teacher's logits when its checkpoint is reachable), and builds the lineage every checkpoint
/// record gets (<see cref="Lineages.DistillationData"/>).
/// <para>
/// Online distillation and the extra augmentation are the distill stage's: with an <see cref="OnlineTeacher"/> no
/// shards are read, the teacher labels every batch and <see cref="DistillationInputOptions.OnlinePool"/> lists the
/// dataset's unlabeled pool; <see cref="DistillationInputOptions.Augment"/> (MixUp / CutMix / RandAugment) is applied
/// per batch. Prune and QAT call this without them (offline shards, no MixUp/CutMix/RandAugment), so their fine-tunes
/// train on the cached soft targets exactly as before.
/// </para>
/// </summary>
public sealed class DistillationInputs
{
    /// <summary>The setting that asks for the unlabeled pool online, named in the message when the dataset has none.</summary>
    private const string OnlinePoolSetting = "Trainer:Distill:OnlinePool";

    private DistillationInputs(IReadOnlyList<string> classes, PreprocessingRecord preprocessing, DistillationData train,
        InMemoryTrainingData eval, int labeledImages, int pseudoLabeledImages, LineageRecord lineage)
    {
        Classes = classes;
        Preprocessing = preprocessing;
        Train = train;
        Eval = eval;
        LabeledImages = labeledImages;
        PseudoLabeledImages = pseudoLabeledImages;
        Lineage = lineage;
    }

    /// <summary>The dataset's class names, in logit order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The preprocessing the batches go through.</summary>
    public PreprocessingRecord Preprocessing { get; }

    /// <summary>Mixed labeled + pseudo-labeled training batches.</summary>
    public DistillationData Train { get; }

    /// <summary>The evaluation split, in memory.</summary>
    public InMemoryTrainingData Eval { get; }

    /// <summary>Labeled training images.</summary>
    public int LabeledImages { get; }

    /// <summary>Pseudo-labeled training images (online: the unlabeled pool the teacher labels in the loop).</summary>
    public int PseudoLabeledImages { get; }

    /// <summary>
    /// What the data derives from (dataset, objective, mix, augmentation, shard sets, teachers and teacher mode, counts,
    /// evaluation teacher); a stage puts it into its own lineage with <see cref="Lineages.WithData"/>.
    /// </summary>
    public LineageRecord Lineage { get; }

    /// <summary>
    /// Reads the dataset and the shards (or, with an online teacher, no shards) and prepares the batches, the
    /// in-memory evaluation split (held in batches of <see cref="DistillationInputOptions.EvalBatchSize"/>) and the
    /// lineage.
    /// </summary>
    /// <param name="stores">Opens the dataset, the shard sets and the evaluation teacher.</param>
    /// <param name="options">What to read and how.</param>
    /// <param name="device">Where the evaluation teacher runs, once, over the evaluation split.</param>
    /// <param name="loggerFactory">Logs the counts and skipped images.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <exception cref="InvalidInputException">A missing dataset or split, or shards that do not fit it.</exception>
    public static async Task<DistillationInputs> LoadAsync(
        ObjectStoreFactory stores,
        DistillationInputOptions options,
        TorchSharp.torch.Device device,
        ILoggerFactory loggerFactory,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var dataOptions = options.Settings.Data;
        var shardOptions = options.Settings.Shards;
        var imageOptions = options.Settings.Images;
        var online = options.Online;
        var evalSplit = options.EvalSplit;
        var batchSize = options.BatchSize;
        var seed = options.Seed;
        var logger = loggerFactory.CreateLogger<DistillationInputs>();
        var dataset = stores.Open(dataOptions.Dataset);
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, cancellationToken).ConfigureAwait(false);
        var train = manifest.Where(r => r.Split == DatasetSplits.Train).ToList();
        var eval = manifest.Where(r => r.Split == evalSplit).ToList();
        if (eval.Count == 0)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} has no '{evalSplit}' rows in {DatasetLayout.ManifestKey}; distillation evaluates on them.");
        }

        var preprocessing = imageOptions.ToPreprocessingRecord();
        var reader = new ShardSetReader(stores, shardOptions, loggerFactory.CreateLogger<ShardSetReader>());
        var softTargets = !options.InLoopTeacher && (options.Objective.NeedsTeacher || shardOptions.Locations.Count > 0)
            ? await reader.ReadAsync(classes, preprocessing, cancellationToken).ConfigureAwait(false)
            : null;
        var samples = DistillationSamples.Build(dataset, train, eval, softTargets);
        // Packed images (keys '<shard>#<member>') are unpacked here, once per run, and a key its shard lacks stops the run now.
        var caches = samples.Stores.Select(s => ImageByteCache.ForStore(s, dataOptions.CacheDirectory)).ToList();
        await caches[0].PrepareAsync(train.Concat(eval).Select(r => r.Key), logger, cancellationToken).ConfigureAwait(false);
        for (var source = 1; source < caches.Count; source++)
        {
            var store = source;
            await caches[source].PrepareAsync(samples.Pseudo.Where(p => p.Source == store).Select(p => p.Key), logger, cancellationToken).ConfigureAwait(false);
        }

        var pool = options.InLoopTeacher && options.OnlinePool ? await ListPoolAsync(dataset, caches[0], cancellationToken).ConfigureAwait(false) : samples.Pseudo;
        // The samples hold what training needs; the row set itself need not live through the run (async locals
        // are fields of the state machine, so it would).
        var sets = softTargets?.Sets ?? [];
        softTargets = null;
        logger.LogInformation(
            "Distilling from {Labeled} labeled images ({WithTeacher} with teacher views) and {Pseudo} pseudo-labeled images; {HeldOut} soft-targeted images of the test split left out",
            samples.Labeled.Count, samples.LabeledWithTeacher, pool.Count, samples.DroppedHeldOut);

        var trainData = new DistillationData(caches, samples.Labeled, pool, classes.Count, imageOptions, dataOptions, options.Settings.Mix,
            batchSize, (ulong)seed, loggerFactory.CreateLogger<DistillationData>(), onlineTeacher: options.InLoopTeacher, augment: options.Augment);
        logger.LogInformation("Batches of {Batch}: {Labeled} labeled + {Pseudo} pseudo-labeled, {Steps} steps per epoch",
            batchSize, trainData.LabeledPerBatch, trainData.PseudoPerBatch, trainData.BatchesPerEpoch);

        var evalSource = new StoreTrainingData(caches[0], eval, imageOptions, dataOptions, options.EvalBatchSize, training: false, (ulong)seed, loggerFactory.CreateLogger<StoreTrainingData>());
        var evalData = await InMemoryTrainingData.LoadAsync(evalSource, options.EvalBatchSize, cancellationToken).ConfigureAwait(false);
        var evalTeacherLocation = await AttachTeacherAsync(stores, evalData, sets, online?.Source, classes.Count, imageOptions.Channels, options.EvalTeacher, device, logger, cancellationToken).ConfigureAwait(false);

        var lineage = Lineages.DistillationData(dataset.Location.ToString(), options, sets, samples, pool.Count, evalTeacherLocation);
        return new DistillationInputs(classes, preprocessing, trainData, evalData, samples.Labeled.Count, pool.Count, lineage);
    }

    /// <summary>
    /// The dataset's unlabeled pool for online distillation: every image under <c>unlabeled/</c>, in key order, without a
    /// label; a packed shard (<c>.parquet</c>, <c>.tar</c>) stands for its members, in shard order.
    /// </summary>
    private static async Task<IReadOnlyList<DistillationSample>> ListPoolAsync(IObjectStore dataset, ImageByteCache images, CancellationToken cancellationToken)
    {
        var pool = new List<DistillationSample>();
        await foreach (var item in dataset.ListAllAsync(DatasetLayout.UnlabeledPrefix, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (PackedFormats.Resolve(InputFormat.Auto, item.Key) == InputFormat.Loose)
            {
                pool.Add(new DistillationSample(0, item.Key, -1, []));
                continue;
            }

            foreach (var key in await images.ListMembersAsync(item.Key, cancellationToken).ConfigureAwait(false))
            {
                pool.Add(new DistillationSample(0, key, -1, []));
            }
        }
        if (pool.Count == 0)
        {
            throw new InvalidInputException(
                $"{OnlinePoolSetting} is set but dataset {dataset.Location} has no images under '{DatasetLayout.UnlabeledPrefix}'.");
        }
        return pool;
    }

    /// <summary>Runs the teacher once over the evaluation images (never over training data) for the per-epoch KL and agreement.</summary>
    private static async Task<string?> AttachTeacherAsync(ObjectStoreFactory stores, InMemoryTrainingData evalData, IReadOnlyList<ShardSetInfo> sets,
        string? onlineTeacher, int classes, int channels, string? evalTeacher, TorchSharp.torch.Device device, ILogger logger, CancellationToken cancellationToken)
    {
        if (string.Equals(evalTeacher, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var set = sets.Count > 0 ? sets[0] : null;
        var location = evalTeacher ?? onlineTeacher ?? set?.TeacherSource;
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
