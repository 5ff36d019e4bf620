using System.Diagnostics;
using KdData.Augmentation;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer distill</c>: offline knowledge distillation (the default), or online with
/// <see cref="DistillOptions.Teacher"/>: the teacher then runs on every training batch (see <see cref="OnlineTeacher"/>)
/// and no shards are read. Trains a student on the dataset's labeled train
/// split plus the pool images a teacher pseudo-labeled (committed Labeler shards, re-thresholded at load), through
/// <see cref="DistillationInputs"/> (the data path prune and QAT share), with the configured objective (Hinton KD by default) and curriculum; evaluates on the
/// test split each epoch (accuracy, and teacher-student KL / agreement when the teacher checkpoint is reachable).
/// Offline, the teacher is never run for training; with <c>--teacher self</c> the student labels its own batches
/// (FixMatch, see <see cref="DistillOptions.SelfTeaching"/>). Resumes from <c>last</c>; SIGTERM saves and exits 3.
/// </summary>
public sealed class DistillJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly DistillOptions _options;
    private readonly TrainingLoopOptions _loopOptions;
    private readonly DistillationDataSettings _data;
    private readonly RepresentationOptions _representationOptions;
    private readonly DistillationAugmentOptions _augmentOptions;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public DistillJob(
        ObjectStoreFactory stores,
        IOptions<DistillOptions> options,
        IOptions<TrainingLoopOptions> loopOptions,
        DistillationDataSettings data,
        IOptions<RepresentationOptions> representationOptions,
        IOptions<DistillationAugmentOptions> augmentOptions,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<DistillJob>())
    {
        _stores = stores;
        _options = options.Value;
        _loopOptions = loopOptions.Value;
        _data = data;
        _representationOptions = representationOptions.Value;
        _augmentOptions = augmentOptions.Value;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        var objective = TrainingObjectives.Create(_data.ObjectiveOptions);
        if (_augmentOptions.Mixes && objective is HardPseudoLabelObjective)
        {
            throw new InvalidInputException(
                $"{DistillationAugmentOptions.SectionName}:MixUp/CutMix cannot be used with {ObjectiveOptions.SectionName}:Name={objective.Name} (a thresholded hard pseudo-label of a mixed image is undefined); use kd or ce.");
        }
        var curriculum = new DistillationCurriculum(_data.ObjectiveOptions.Curriculum);
        var preprocessing = _data.Images.ToPreprocessingRecord();
        var selfTeaching = _options.SelfTeaching;
        if (_representationOptions.AnyEnabled && (_options.Teacher is null || selfTeaching))
        {
            throw new InvalidInputException(
                $"Trainer:Objective: the representation terms ({string.Join(", ", _representationOptions.EnabledTerms)}) read the teacher's features and need the online teacher; set {DistillOptions.SectionName}:{nameof(DistillOptions.Teacher)} (--teacher) to a checkpoint.");
        }
        if (_augmentOptions.StrongPool && _options.Teacher is null)
        {
            throw new InvalidInputException(
                $"{DistillationAugmentOptions.SectionName}:StrongPool needs a teacher in the loop to label the weak views: set {DistillOptions.SectionName}:{nameof(DistillOptions.Teacher)} (--teacher) to a checkpoint or to 'self'.");
        }
        if (selfTeaching && !objective.NeedsTeacher)
        {
            throw new InvalidInputException(
                $"{DistillOptions.SectionName}:{nameof(DistillOptions.Teacher)}=self with {ObjectiveOptions.SectionName}:Name={objective.Name}: the objective reads no teacher, so nothing would use the pool; use pseudo-ce (FixMatch) or kd.");
        }
        using var online = _options.Teacher is { } teacherLocation && !selfTeaching
            ? await LoadOnlineTeacherAsync(teacherLocation, preprocessing, device, stoppingToken)
            : null;
        var inputs = await DistillationInputs.LoadAsync(_stores, _data.InputOptions(objective, _loopOptions) with
        {
            EvalTeacher = _options.EvalTeacher,
            Online = online,
            SelfTeaching = selfTeaching,
            OnlinePool = _options.OnlinePool,
            Augment = _augmentOptions,
        }, device, _loggerFactory, stoppingToken);
        var classes = inputs.Classes;
        var trainData = inputs.Train;
        if (online is not null)
        {
            Logger.LogInformation("Online distillation: teacher {Teacher} ({Location}) runs on every training batch; {Pool} pool images without labels",
                online.Id, online.Source, inputs.PseudoLabeledImages);
        }
        else if (selfTeaching)
        {
            Logger.LogInformation("Self-teaching: the student labels every training batch itself{Views}; {Pool} pool images without labels",
                _augmentOptions.StrongPool ? " (the weak view of a pool image; it learns from the strong view)" : "", inputs.PseudoLabeledImages);
        }

        var spec = _options.Model with { NumClasses = classes.Count, InChannels = _data.Images.Channels };
        var lineage = Lineages.Distill(inputs.Lineage, _representationOptions.EnabledTerms);

        var progress = TrainingProgressLog.Create(Logger);
        Logger.LogInformation("Training student {Architecture} with objective {Objective}; device {Device}; output {Output}",
            spec.Name, objective.Name, device, Path.GetFullPath(_options.Output));
        var clock = Stopwatch.StartNew();
        var loop = new TrainingLoop(_loopOptions, objective, device, progress, _loggerFactory.CreateLogger<TrainingLoop>(), DistillOptions.SectionName);
        // With representation terms the student is built here (exactly as the loop would: seeded, then the zoo) so the
        // terms can tap it and size their adapters before training; otherwise the loop builds it.
        using var student = _representationOptions.AnyEnabled ? CreateStudent(spec, device) : null;
        using var representation = student is not null && online is not null
            ? RepresentationDistillation.Create(_representationOptions, student, online.Network, _data.Images.Channels, preprocessing.Height, preprocessing.Width,
                inputs.LabeledImages + inputs.PseudoLabeledImages, device)
            : null;
        if (representation is not null)
        {
            Logger.LogInformation("Representation KD terms: {Terms}", representation.Describe().ToJsonString());
        }
        var setup = new TrainingSetup
        {
            Architecture = spec,
            Train = trainData,
            Eval = inputs.Eval,
            OutputDirectory = _options.Output,
            Classes = classes,
            Preprocessing = preprocessing,
            Schedule = curriculum.At,
            Lineage = lineage,
            Teacher = online,
            SelfTeacher = selfTeaching,
            Representation = representation,
        };
        var result = student is null ? await loop.RunAsync(setup, stoppingToken) : await loop.RunAsync(setup, student, stoppingToken);
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

    /// <summary>
    /// Loads the online teacher; a missing or unreadable checkpoint, or one for other classes or another preprocessing
    /// than the student's, stops at start (exit 2) naming <c>Trainer:Distill:Teacher</c>.
    /// </summary>
    private async Task<OnlineTeacher> LoadOnlineTeacherAsync(string location, PreprocessingRecord preprocessing,
        TorchSharp.torch.Device device, CancellationToken cancellationToken)
    {
        // The teacher must be checked against the dataset's classes before the data path (which it steers) runs.
        var (_, classes) = await DatasetFiles.ReadAsync(_stores.Open(_data.Data.Dataset), cancellationToken);
        OnlineTeacher teacher;
        try
        {
            teacher = await OnlineTeacher.LoadAsync(_stores, location, device, cancellationToken);
        }
        catch (Exception e) when (e is ObjectStoreException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException)
        {
            throw new InvalidInputException($"{DistillOptions.SectionName}:{nameof(DistillOptions.Teacher)} '{location}' cannot be loaded: {e.Message}", e);
        }

        var record = teacher.Record;
        string? problem = null;
        if (!record.Classes.SequenceEqual(classes, StringComparer.Ordinal) && !(record.Classes.Count == 0 && record.Architecture.NumClasses == classes.Count))
        {
            problem = $"it predicts [{string.Join(", ", record.Classes)}] ({record.Architecture.NumClasses} classes) but the dataset has [{string.Join(", ", classes)}]";
        }
        else if (record.Preprocessing is { } p && !p.SameInput(preprocessing))
        {
            problem = $"it was trained on {p.Describe()}, but the student's input (Imaging) is {preprocessing.Describe()}";
        }
        if (problem is not null)
        {
            teacher.Dispose();
            throw new InvalidInputException($"{DistillOptions.SectionName}:{nameof(DistillOptions.Teacher)} '{location}' cannot teach this student: {problem}.");
        }
        return teacher;
    }

    /// <summary>The student as <see cref="TrainingLoop.RunAsync(TrainingSetup, CancellationToken)"/> builds it: seeded with the loop's seed, then the zoo.</summary>
    private TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> CreateStudent(ModelSpec spec, TorchSharp.torch.Device device)
    {
        TorchSharp.torch.manual_seed(_loopOptions.Seed);
        return ModelZoo.Create(spec, device);
    }
}
