using KdData.Datasets;
using KdData.Distillation;
using KdData.Evaluation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Models;
using KdData.Records;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer evaluate</c>: runs a checkpoint (and optionally its teacher) over a labels manifest and
/// writes <c>evaluation.json</c> with the charts (see <see cref="EvaluationReportWriter"/>). Inputs are loaded
/// and checked before any image is read: a missing checkpoint or dataset, a checkpoint whose classes differ
/// from the dataset's <c>classes.json</c>, or an unreadable shard set stops with exit 2 and a message naming it.
/// </summary>
public sealed class EvaluateJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly EvaluateOptions _options;
    private readonly TrainingDataOptions _dataOptions;
    private readonly ImageOptions _imageOptions;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public EvaluateJob(
        ObjectStoreFactory stores,
        IOptions<EvaluateOptions> options,
        IOptions<TrainingDataOptions> dataOptions,
        IOptions<ImageOptions> imageOptions,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<EvaluateJob>())
    {
        _stores = stores;
        _options = options.Value;
        _dataOptions = dataOptions.Value;
        _imageOptions = imageOptions.Value;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        EvaluationInputs inputs;
        try
        {
            inputs = await EvaluationInputs.LoadAsync(_stores, _options.ToInputOptions(_dataOptions.Dataset), device, stoppingToken);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ObjectNotFoundException or InvalidStorageLocationException)
        {
            Logger.LogCritical("Invalid input: {Message}", e.Message);
            return ExitCodes.InvalidConfiguration;
        }

        using (inputs)
        {
            return await EvaluateAsync(inputs, device, stoppingToken);
        }
    }

    private async Task<int> EvaluateAsync(EvaluationInputs inputs, torch.Device device, CancellationToken cancellationToken)
    {
        Logger.LogInformation(
            "Evaluating {Checkpoint} ({Architecture}) on {Images} images of {Dataset}{Manifest} (split '{Split}'); device {Device}",
            _options.Checkpoint, inputs.Student.Record.Architecture.Name, inputs.Rows.Count, inputs.Dataset.Location, _options.Manifest, _options.Split, device);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cache = ImageByteCache.ForStore(inputs.Dataset, _dataOptions.CacheDirectory);
        await cache.PrepareAsync(inputs.Rows.Select(r => r.Key), Logger, cancellationToken);
        var studentImages = ImageOptionsFor(inputs.Student.Record);
        var studentData = DataFor(cache, inputs.Rows, studentImages);
        var evaluator = new Evaluator(device);
        ModelOutputs student;
        ModelOutputs? teacher = null;
        var skipped = 0L;
        if (inputs.Teacher is { } teacherCheckpoint && SamePreprocessing(inputs.Student.Record, teacherCheckpoint.Record))
        {
            // One pass, both models on each batch: the rows line up whatever images are skipped.
            var outputs = await evaluator.RunAsync([inputs.Student.Model, teacherCheckpoint.Model], studentData, cancellationToken);
            (student, teacher) = (outputs[0], outputs[1]);
            skipped = studentData.SkippedImages;
        }
        else
        {
            student = await evaluator.RunAsync(inputs.Student.Model, studentData, cancellationToken);
            skipped = studentData.SkippedImages;
            if (inputs.Teacher is { } other)
            {
                var teacherData = DataFor(cache, inputs.Rows, ImageOptionsFor(other.Record));
                teacher = await evaluator.RunAsync(other.Model, teacherData, cancellationToken);
                if (!teacher.Labels.AsSpan().SequenceEqual(student.Labels))
                {
                    throw new InvalidDataException("The teacher's pass read other images than the student's (an image became unreadable in between); run again.");
                }
            }
        }

        if (student.Count == 0)
        {
            Logger.LogCritical("Invalid input: none of the {Images} images of split '{Split}' could be read", inputs.Rows.Count, _options.Split);
            return ExitCodes.InvalidConfiguration;
        }

        var bins = _options.CalibrationBins;
        var metrics = student.ComputeMetrics(bins);
        TeacherComparison? comparison = null;
        if (teacher is not null)
        {
            comparison = new TeacherComparison
            {
                Checkpoint = Describe(_options.Teacher!, inputs.Teacher!),
                Metrics = teacher.ComputeMetrics(bins),
                Agreement = TeacherAgreement.Compute(student.Logits, teacher.Logits, student.NumClasses),
            };
        }

        var pseudoLabels = inputs.PseudoLabels is { } committed ? ScorePseudoLabels(inputs, committed) : null;
        var checkpointFolder = Path.GetDirectoryName(Path.GetFullPath(_options.Checkpoint))!;
        var metricsPath = Path.Combine(checkpointFolder, ArtifactFiles.Metrics);
        var history = await MetricsHistory.ReadAsync(metricsPath, cancellationToken);
        var report = new EvaluationReport
        {
            CreatedAt = DateTimeOffset.UtcNow,
            Checkpoint = Describe(_options.Checkpoint, inputs.Student),
            Data = new EvaluatedData
            {
                Dataset = inputs.Dataset.Location.ToString(),
                Manifest = _options.Manifest,
                Split = _options.Split,
                Listed = inputs.Rows.Count,
                Skipped = skipped,
            },
            Classes = inputs.Classes,
            Metrics = metrics,
            Teacher = comparison,
            PseudoLabels = pseudoLabels,
            MetricsSource = history is null ? null : metricsPath,
        };
        var output = Path.GetFullPath(_options.Output);
        report = await EvaluationReportWriter.WriteAsync(report, history, output, cancellationToken);

        Logger.LogInformation(
            "Accuracy {Accuracy:F4} on {Count} images; NLL {Nll:F4}; ECE {Ece:F4} ({Bins} bins); {Seconds:F1} s",
            metrics.Accuracy, metrics.Count, metrics.NegativeLogLikelihood, metrics.ExpectedCalibrationError, bins, clock.Elapsed.TotalSeconds);
        if (comparison is not null)
        {
            Logger.LogInformation(
                "Teacher accuracy {TeacherAccuracy:F4}; top-1 agreement {Agreement:F4}; mean KL(teacher || student) {Kl:F4}",
                comparison.Metrics.Accuracy, comparison.Agreement.Top1Agreement, comparison.Agreement.MeanKlTeacherStudent);
        }

        if (pseudoLabels is not null)
        {
            Logger.LogInformation(
                "Pseudo-labels of {Shards}: accuracy {Accuracy:F4} on {Matched} accepted views ({Unmatched} without a pool label), coverage {Coverage:P1}",
                pseudoLabels.Location, pseudoLabels.Accepted.Accuracy, pseudoLabels.Accepted.Matched, pseudoLabels.Accepted.Unmatched, pseudoLabels.Accepted.Coverage);
        }

        if (skipped > 0)
        {
            Logger.LogWarning("Skipped {Skipped} images that could not be read (see warnings above)", skipped);
        }

        Logger.LogInformation("Wrote {Report} and charts to {Output}", EvaluationReport.FileName, output);
        return ExitCodes.Success;
    }

    private PseudoLabelEvaluation ScorePseudoLabels(EvaluationInputs inputs, PseudoLabelSet committed)
    {
        var set = committed.Sets[0];
        var input = committed.Sources.Count > 0 ? committed.Sources[0].Location : null;
        var prefix = _options.ShardKeyPrefix ?? DerivePrefix(inputs.Dataset.Location.ToString(), input);
        var classes = inputs.Classes.Count;
        var acceptedRows = committed.Rows.Where(r => !r.FromRejected).Select(r => (prefix + r.Key, r.Predicted)).ToList();
        var accepted = PseudoLabelAccuracy.Compute(acceptedRows, inputs.PoolLabels!, classes);
        var all = acceptedRows.Count == committed.Rows.Count
            ? null
            : PseudoLabelAccuracy.Compute(committed.Rows.Select(r => (prefix + r.Key, r.Predicted)), inputs.PoolLabels!, classes);
        if (accepted.Matched == 0 && accepted.Predictions > 0)
        {
            Logger.LogWarning(
                "No shard key matched a pool label with prefix '{Prefix}' (first shard key '{Key}'); set Trainer:Evaluate:ShardKeyPrefix",
                prefix, acceptedRows[0].Item1);
        }

        return new PseudoLabelEvaluation
        {
            Location = set.Location,
            Files = set.Files,
            KeyPrefix = prefix,
            Accepted = accepted,
            IncludingRejected = all,
        };
    }

    /// <summary>The Labeler's input relative to the dataset root (e.g. <c>unlabeled/</c>), or <c>unlabeled/</c>.</summary>
    private static string DerivePrefix(string dataset, string? input) =>
        input is not null && input.StartsWith(dataset, StringComparison.Ordinal)
            ? input[dataset.Length..]
            : DatasetLayout.UnlabeledPrefix;

    private StoreTrainingData DataFor(ImageByteCache cache, IReadOnlyList<LabelRecord> rows, ImageOptions images) =>
        new(cache, rows, images, _dataOptions, _options.BatchSize, training: false, seed: 0, _loggerFactory.CreateLogger<StoreTrainingData>());

    /// <summary>The checkpoint's own preprocessing (size, channels, normalisation) with the configured decoding limits.</summary>
    private ImageOptions ImageOptionsFor(CheckpointRecord record) =>
        record.Preprocessing is { } pre ? _imageOptions.ForPreprocessing(pre) : _imageOptions;

    private static bool SamePreprocessing(CheckpointRecord a, CheckpointRecord b) => a.Preprocessing is { } x && x.SameInput(b.Preprocessing);

    private static EvaluatedModel Describe(string path, Checkpoint checkpoint) => new()
    {
        Path = path,
        Id = checkpoint.Record.WeightsSha256 is { Length: >= 16 } sha ? sha[..16] : string.Empty,
        Architecture = checkpoint.Record.Architecture.Name,
        Parameters = ModelComplexity.Parameters(checkpoint.Model),
        Macs = checkpoint.Record.Preprocessing is { } pre
            ? ModelComplexity.Macs(checkpoint.Model, checkpoint.Record.Architecture.InChannels, pre.Height, pre.Width)
            : null,
    };
}
