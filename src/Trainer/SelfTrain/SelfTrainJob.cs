using System.Diagnostics;
using System.Globalization;
using KdData.Datasets;
using KdData.Evaluation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Records;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer selftrain</c>: Noisy Student (Xie et al. 2020, "Self-training with Noisy Student improves ImageNet
/// classification"). Each round: (1) the current teacher labels the dataset's pool (<c>unlabeled/</c>) and its labeled
/// training images (<c>train/</c>) through the Labeler engine (<see cref="LabelingRun"/>, the code the Labeler host
/// runs), so the soft targets are exactly-once and incremental under <c>labels/{pool,train}/teacher=&lt;id&gt;/</c> and a
/// rerun labels only keys that teacher has not labeled yet; the teacher is not noised (eval mode, whole views).
/// (2) A student of equal or larger size is distilled from them with noise — the stored random crops and flips replayed
/// as augmentation, and dropout — by the <c>distill</c> stage itself (<see cref="StageRunner"/>), which
/// resumes from its last checkpoint and records its teacher in its checkpoint's lineage. (3) Teacher and student are
/// evaluated on the test split by the <c>evaluate</c> stage (with the teacher's pseudo-label accuracy on the pool). The
/// student's last checkpoint is the next round's teacher. A round is done when its <c>round.json</c> exists: a rerun
/// skips finished rounds and continues an interrupted one (labeling and distillation both resume). Exit codes: 0 done,
/// 2 bad input (naming it), 3 interrupted (rerun to continue), 4 the Labeler's error threshold was exceeded.
/// </summary>
public sealed class SelfTrainJob : JobService
{
    /// <summary>Time allowed for in-flight labeling after SIGTERM before the rest is abandoned (redone next run).</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(15);

    private readonly ObjectStoreFactory _stores;
    private readonly SelfTrainOptions _options;
    private readonly TrainingDataOptions _dataOptions;
    private readonly ImageOptions _imageOptions;
    private readonly TorchOptions _torchOptions;
    private readonly StageRunner _stages;

    public SelfTrainJob(
        ObjectStoreFactory stores,
        IOptions<SelfTrainOptions> options,
        IOptions<TrainingDataOptions> dataOptions,
        IOptions<ImageOptions> imageOptions,
        IOptions<TorchOptions> torchOptions,
        IConfiguration configuration,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILogger<SelfTrainJob> logger)
        : base(lifetime, outcome, logger)
    {
        _stores = stores;
        _options = options.Value;
        _dataOptions = dataOptions.Value;
        _imageOptions = imageOptions.Value;
        _torchOptions = torchOptions.Value;
        _stages = new StageRunner(configuration);
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        var teacherPath = Path.GetFullPath(_options.Teacher!);
        if (!File.Exists(teacherPath))
        {
            throw new InvalidInputException($"Trainer:SelfTrain:Teacher (--teacher): checkpoint record '{_options.Teacher}' does not exist; give round 1's teacher, e.g. samples/fashion-mnist/teacher/teacher.json.");
        }

        CheckpointRecord teacherRecord;
        try
        {
            teacherRecord = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(teacherPath, stoppingToken));
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new InvalidInputException($"Trainer:SelfTrain:Teacher (--teacher): '{_options.Teacher}' is not a checkpoint record: {e.Message}", e);
        }

        var dataset = _stores.Open(_dataOptions.Dataset);
        var (_, classes) = await DatasetFiles.ReadAsync(dataset, stoppingToken);
        if (teacherRecord.Architecture.NumClasses != classes.Count || (teacherRecord.Classes.Count > 0 && !teacherRecord.Classes.SequenceEqual(classes, StringComparer.Ordinal)))
        {
            throw new InvalidInputException($"Trainer:SelfTrain:Teacher (--teacher): '{_options.Teacher}' has classes [{string.Join(", ", teacherRecord.Classes)}] but dataset {dataset.Location} has [{string.Join(", ", classes)}].");
        }

        // Every round's student is built and checked against its round's teacher (round 1: the given one; after: the
        // previous round's student) before anything runs, so a bad width stops the run at start.
        var students = new List<ModelSpec>(_options.Rounds);
        var roundTeacher = teacherRecord.Architecture;
        foreach (var width in _options.StudentWidths())
        {
            var spec = StudentSpec(teacherRecord.Architecture, classes.Count, width);
            RequireLargeEnough(spec, roundTeacher, students.Count + 1);
            students.Add(spec);
            roundTeacher = spec;
        }

        Debug.Assert(students.Count == _options.Rounds, "one student per round");
        var hasPoolLabels = await ExistsAsync(dataset, DatasetLayout.PoolLabelsKey, stoppingToken);
        if (!hasPoolLabels)
        {
            Logger.LogWarning("Dataset {Dataset} has no {PoolLabels}: pseudo-label accuracy is not measured", dataset.Location, DatasetLayout.PoolLabelsKey);
        }

        var output = Path.GetFullPath(_options.Output);
        Directory.CreateDirectory(output);
        Logger.LogInformation(
            "Self-training {Rounds} rounds from teacher {Teacher}; students {Students}, {Epochs} epochs per round, {Views} views per image; output {Output}",
            _options.Rounds, teacherPath, string.Join(" -> ", students.Select(Describe)), _options.Epochs, _options.Views, output);

        var rounds = new List<SelfTrainRound>();
        for (var round = 1; round <= _options.Rounds; round++)
        {
            var folder = SelfTrainReport.RoundFolder(output, round);
            if (await SelfTrainReport.TryReadRoundAsync(folder, stoppingToken) is { } done)
            {
                Logger.LogInformation("Round {Round} is done ({Record}); skipped", round, Path.Combine(folder, SelfTrainRound.FileName));
                rounds.Add(done);
                teacherPath = done.StudentCheckpoint;
                continue;
            }

            var (code, result) = await RunRoundAsync(round, folder, teacherPath, students[round - 1], dataset, output, hasPoolLabels, device, stoppingToken);
            if (code != ExitCodes.Success)
            {
                return code;
            }

            await SelfTrainReport.WriteRoundAsync(folder, result!, CancellationToken.None);
            rounds.Add(result!);
            teacherPath = result!.StudentCheckpoint;
            await SelfTrainReport.WriteTableAsync(output, rounds, _options.Rounds, CancellationToken.None);
            Logger.LogInformation(
                "Round {Round} done in {Seconds:F0} s: teacher {TeacherAccuracy:P2}, pseudo-labels {PseudoAccuracy:P2}, student {StudentAccuracy:P2}",
                round, result.Seconds, result.TeacherAccuracy, result.PseudoLabelAccuracy, result.StudentAccuracy);
        }

        var table = await SelfTrainReport.WriteTableAsync(output, rounds, _options.Rounds, CancellationToken.None);
        Console.WriteLine(table);
        Logger.LogInformation("Self-training done: the table is in {Table} and {Json}", Path.Combine(output, SelfTrainReport.TableFileName), Path.Combine(output, SelfTrainReport.JsonFileName));
        return ExitCodes.Success;
    }

    /// <summary>One round; returns a non-zero exit code (and no result) when a stage stopped early.</summary>
    private async Task<(int Code, SelfTrainRound? Result)> RunRoundAsync(
        int round, string folder, string teacherPath, ModelSpec student, IObjectStore dataset, string output, bool hasPoolLabels, TorchSharp.torch.Device device, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Logger.LogInformation("Round {Round}: teacher {Teacher}, student {Student}", round, teacherPath, Describe(student));
        var root = dataset.Location.ToString().TrimEnd('/') + "/";
        SelfTrainLabeling pool, train;
        using (var teacher = await InferenceModel.LoadAsync(_stores, teacherPath, device, cancellationToken))
        {
            var (poolCode, poolRun) = await LabelAsync(teacher, root + DatasetLayout.UnlabeledPrefix, Path.Combine(output, "labels", "pool"), cancellationToken);
            if (poolCode != ExitCodes.Success)
            {
                return (poolCode, null);
            }

            var (trainCode, trainRun) = await LabelAsync(teacher, root + DatasetLayout.TrainPrefix, Path.Combine(output, "labels", "train"), cancellationToken);
            if (trainCode != ExitCodes.Success)
            {
                return (trainCode, null);
            }

            (pool, train) = (poolRun!, trainRun!);
        }

        var studentFolder = Path.Combine(folder, "student");
        var distill = new Dictionary<string, string?>
        {
            ["Trainer:Distill:Output"] = studentFolder,
            ["Trainer:Distill:Epochs"] = Invariant(_options.Epochs),
            ["Trainer:Distill:EvalTeacher"] = teacherPath,
            ["Trainer:Distill:Shards:Locations:0"] = Location(train.Folder),
            ["Trainer:Distill:Shards:Locations:1"] = Location(pool.Folder),
            ["Trainer:Distill:Model:Name"] = student.Name,
            ["Trainer:Distill:Model:Stem"] = student.Stem,
            ["Trainer:Distill:Model:WidthMult"] = Invariant(student.WidthMult),
            ["Trainer:Distill:Model:Width"] = Invariant(student.Width),
            ["Trainer:Distill:Model:Depth"] = Invariant(student.Depth),
            ["Trainer:Distill:Model:WidenFactor"] = Invariant(student.WidenFactor),
            ["Trainer:Distill:Model:DropRate"] = Invariant(student.DropRate),
        };
        var distillCode = await RunStageAsync(round, TrainerCommands.Distill, distill, cancellationToken);
        if (distillCode != ExitCodes.Success)
        {
            return (distillCode, null);
        }

        var studentPath = Path.Combine(studentFolder, ArtifactFiles.RecordOf(ArtifactFiles.LastCheckpoint));
        var teacherEvaluation = Path.Combine(folder, "teacher-evaluation");
        var studentEvaluation = Path.Combine(folder, "student-evaluation");
        var evaluateTeacher = new Dictionary<string, string?>
        {
            ["Trainer:Evaluate:Checkpoint"] = teacherPath,
            ["Trainer:Evaluate:Teacher"] = null,
            ["Trainer:Evaluate:Shards"] = hasPoolLabels ? Location(pool.Folder) : null,
            ["Trainer:Evaluate:Output"] = teacherEvaluation,
        };
        var evaluateStudent = new Dictionary<string, string?>
        {
            ["Trainer:Evaluate:Checkpoint"] = studentPath,
            ["Trainer:Evaluate:Teacher"] = teacherPath,
            ["Trainer:Evaluate:Shards"] = null,
            ["Trainer:Evaluate:Output"] = studentEvaluation,
        };
        foreach (var settings in new[] { evaluateTeacher, evaluateStudent })
        {
            var evaluateCode = await RunStageAsync(round, TrainerCommands.Evaluate, settings, cancellationToken);
            if (evaluateCode != ExitCodes.Success)
            {
                return (evaluateCode, null);
            }
        }

        var teacherReport = await EvaluationReportWriter.ReadAsync(Path.Combine(teacherEvaluation, EvaluationReport.FileName), cancellationToken);
        var studentReport = await EvaluationReportWriter.ReadAsync(Path.Combine(studentEvaluation, EvaluationReport.FileName), cancellationToken);
        return (ExitCodes.Success, new SelfTrainRound
        {
            Round = round,
            TeacherCheckpoint = teacherPath,
            TeacherId = teacherReport.Checkpoint.Id,
            TeacherAccuracy = teacherReport.Metrics.Accuracy,
            TeacherParameters = teacherReport.Checkpoint.Parameters,
            PseudoLabelAccuracy = teacherReport.PseudoLabels?.Accepted.Accuracy,
            PseudoLabelCoverage = teacherReport.PseudoLabels?.Accepted.Coverage,
            StudentCheckpoint = studentPath,
            StudentId = studentReport.Checkpoint.Id,
            StudentAccuracy = studentReport.Metrics.Accuracy,
            StudentParameters = studentReport.Checkpoint.Parameters,
            Agreement = studentReport.Teacher?.Agreement.Top1Agreement,
            PoolLabeling = pool,
            TrainLabeling = train,
            Seconds = clock.Elapsed.TotalSeconds,
        });
    }

    /// <summary>
    /// Labels <paramref name="input"/> into <paramref name="output"/> with the Labeler engine. Keys this teacher already
    /// labeled (committed, same ETag) are skipped by the engine itself, so a resumed round reuses them.
    /// </summary>
    private async Task<(int Code, SelfTrainLabeling? Result)> LabelAsync(InferenceModel teacher, string input, string output, CancellationToken cancellationToken)
    {
        var options = new LabelingOptions
        {
            Input = input,
            Output = Location(output),
            Teacher = teacher.Source,
            BatchSize = _options.LabelBatchSize,
            ViewsPerImage = _options.Views,
            ViewScaleMin = _options.ViewScaleMin,
            DecodeWorkers = _dataOptions.DecodeWorkers,
        };
        var run = new LabelingRun(_stores, teacher, options, new PartitionOptions(), _imageOptions, Logger);
        // As the Labeler host does: SIGTERM stops the intake, what is in flight is committed; if draining takes too
        // long the rest is abandoned (redone on the rerun).
        using var abort = new CancellationTokenSource();
        using var abortOnStop = cancellationToken.Register(() => abort.CancelAfter(DrainTimeout));
        LabelingSummary summary;
        try
        {
            summary = await run.RunAsync(stopIntake: cancellationToken, abort: abort.Token);
        }
        catch (StoreNotFoundException e)
        {
            throw new InvalidInputException($"Trainer:Data:Dataset: '{input}' does not exist ({e.Message}); self-training labels the dataset's {DatasetLayout.UnlabeledPrefix} and {DatasetLayout.TrainPrefix} folders.", e);
        }

        Logger.LogInformation(
            "Labeled {Input} with teacher {Teacher}: {Images} images now ({Accepted} accepted views, {Errors} errors), {AlreadyLabeled} already labeled by this teacher",
            input, teacher.Id, summary.Images, summary.AcceptedViews, summary.Errors, summary.AlreadyLabeled);
        var result = new SelfTrainLabeling
        {
            Folder = Path.Combine(output, run.TeacherFolder),
            Labeled = summary.Images,
            AlreadyLabeled = summary.AlreadyLabeled,
            AcceptedViews = summary.AcceptedViews,
            Errors = summary.Errors,
        };
        return summary.Outcome switch
        {
            LabelingOutcome.Completed => (ExitCodes.Success, result),
            LabelingOutcome.Interrupted => (ExitCodes.Interrupted, null),
            _ => (ExitCodes.ErrorThresholdExceeded, null),
        };
    }

    private async Task<int> RunStageAsync(int round, string command, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var code = await _stages.RunAsync(command, settings, cancellationToken);
        switch (code)
        {
            case ExitCodes.Success:
                return code;
            case ExitCodes.InvalidConfiguration:
                throw new InvalidInputException($"Round {round}: the {command} stage rejected its input (see the message above); settings: {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}.");
            case ExitCodes.Interrupted:
                Logger.LogWarning("Round {Round} interrupted in {Command}; progress is saved: run again to continue", round, command);
                return code;
            default:
                Logger.LogError("Round {Round}: the {Command} stage failed with exit code {Code}", round, command, code);
                return code;
        }
    }

    /// <summary>
    /// The student: the configured architecture, its unset settings taken from the teacher's when it is the same family
    /// (so the default student is the teacher's size), with the dropout noise where the family has dropout.
    /// </summary>
    private ModelSpec StudentSpec(ModelSpec teacher, int classes, int? width)
    {
        var name = _options.Model?.Trim();
        if (ModelFamilies.Is(teacher.Name, ModelFamilies.Ensemble) && (string.IsNullOrEmpty(name) || ModelFamilies.Is(name, ModelFamilies.Ensemble)))
        {
            // Noisy Student's student is one network: an ensemble teacher is distilled into a family the user names.
            throw new InvalidInputException(
                $"Trainer:SelfTrain:Model (--model): the teacher '{_options.Teacher}' is an ensemble; name the student's architecture (e.g. --model convnet --width 64).");
        }
        var spec = string.IsNullOrEmpty(name) || string.Equals(name, teacher.Name, StringComparison.OrdinalIgnoreCase)
            ? teacher with
            {
                Width = width ?? teacher.Width,
                Depth = _options.Depth ?? teacher.Depth,
                WidenFactor = _options.WidenFactor ?? teacher.WidenFactor,
            }
            : new ModelSpec { Name = name, Width = width, Depth = _options.Depth, WidenFactor = _options.WidenFactor };
        if (ModelFamilies.IsAny(spec.Name, ModelFamilies.WithDropout))
        {
            spec = spec with { DropRate = _options.DropRate > 0 ? _options.DropRate : null };
        }
        else if (_options.DropRate > 0)
        {
            throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"Trainer:SelfTrain:DropRate (--drop-rate) = {_options.DropRate}: student architecture '{spec.Name}' has no dropout setting ({string.Join(" and ", ModelFamilies.WithDropout)} do); set it to 0."));
        }

        spec = spec with { NumClasses = classes, InChannels = teacher.InChannels };
        try
        {
            using var probe = ModelZoo.Create(spec);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException($"Trainer:SelfTrain:Model / Width / Widths / Depth / WidenFactor (--model, --width, --widths): {e.Message}", e);
        }

        return spec;
    }

    private static string Describe(ModelSpec spec) => spec.Width is { } width ? $"{spec.Name} w{width.ToString(CultureInfo.InvariantCulture)}" : spec.Name;

    /// <summary>Noisy Student distils into an equal or larger student; a smaller one is refused unless allowed.</summary>
    private void RequireLargeEnough(ModelSpec student, ModelSpec teacher, int round)
    {
        using var studentModel = ModelZoo.Create(student);
        using var teacherModel = ModelZoo.Create(teacher);
        var (studentParameters, teacherParameters) = (ModelZoo.CountParameters(studentModel), ModelZoo.CountParameters(teacherModel));
        if (studentParameters >= teacherParameters)
        {
            return;
        }

        if (!_options.AllowSmallerStudent)
        {
            throw new InvalidInputException(
                $"Trainer:SelfTrain:Model / Width / Widths (--model, --width, --widths): round {round}'s student has {studentParameters} parameters, fewer than its teacher's {teacherParameters}; Noisy Student distils into an equal or larger student (set --Trainer:SelfTrain:AllowSmallerStudent=true to run anyway).");
        }

        Logger.LogWarning("Round {Round}'s student has {Student} parameters, fewer than its teacher's {Teacher} (AllowSmallerStudent)", round, studentParameters, teacherParameters);
    }

    private static async Task<bool> ExistsAsync(IObjectStore store, string key, CancellationToken cancellationToken)
    {
        try
        {
            await store.GetPropertiesAsync(key, cancellationToken);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    /// <summary>A local folder as a store location (<c>file:///abs/path/</c>).</summary>
    private static string Location(string folder) => "file://" + Path.GetFullPath(folder).TrimEnd('/') + "/";

    private static string? Invariant<T>(T? value)
        where T : struct, IFormattable => value?.ToString(null, CultureInfo.InvariantCulture);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
