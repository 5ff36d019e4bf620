using System.Diagnostics;
using Google.Protobuf;
using KdData.Datasets;
using KdData.Evaluation;
using KdData.Export;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Distillation;
using KdData.Models;
using KdData.Objectives;
using KdData.Quantization;
using KdData.Records;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;
using Onnx;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer quantize</c>: int8 post-training quantization of a checkpoint. Exports the fp32 ONNX model
/// (BatchNorm folded), calibrates activation ranges on a seeded sample of the calibration split in ONNX Runtime,
/// writes the QDQ int8 model, then runs both models in ONNX Runtime on the evaluation split and writes
/// <c>quantization.json</c>: accuracy, ECE and NLL of each, top-1 agreement and KL(fp32 || int8), file sizes and the
/// ranges. With <c>--method qat</c> the calibrated ranges only start quantization-aware training: the convnet is
/// trained through <see cref="QatConvNet"/> (fake-quantized weights and activations, straight-through gradients) with
/// the distill stage's KD objective, shards and batch mixing in the shared <see cref="TrainingLoop"/> (checkpoints,
/// resume and metrics under <c>qat/</c>), then exported through the same QDQ path with its learned ranges; the
/// <c>qat</c> checkpoint records its parent. A missing or unreadable checkpoint, a checkpoint whose classes differ from the dataset's, a layer the
/// exporter cannot write or an empty split stops with exit 2 naming it.
/// </summary>
public sealed class QuantizeJob : JobService
{
    /// <summary>Where QAT trains (its checkpoints, resume and metrics), inside the output folder.</summary>
    private const string QatTrainingFolder = "qat";

    private readonly ObjectStoreFactory _stores;
    private readonly QuantizeOptions _options;
    private readonly TrainingLoopOptions _loopOptions;
    private readonly DistillationDataSettings _data;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public QuantizeJob(
        ObjectStoreFactory stores,
        IOptions<QuantizeOptions> options,
        IOptionsMonitor<TrainingLoopOptions> loopOptions,
        DistillationDataSettings data,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<QuantizeJob>())
    {
        _stores = stores;
        _options = options.Value;
        _loopOptions = loopOptions.CurrentValue;
        _data = data;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        var qat = string.Equals(_options.Method, QuantizeOptions.Qat, StringComparison.Ordinal);
        if (qat)
        {
            TorchDeviceSelector.Initialize(_torchOptions);
        }
        using var checkpoint = await CheckpointInput.LoadAsync(_options.Checkpoint, "Trainer:Quantize:Checkpoint", cancellationToken: stoppingToken);
        checkpoint.Model.eval();
        var record = checkpoint.Record;
        var pre = record.Preprocessing
            ?? throw new InvalidInputException($"Checkpoint '{_options.Checkpoint}' records no preprocessing; the input size of the ONNX model is unknown.");
        var dataset = _stores.Open(_data.Data.Dataset);
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, stoppingToken);
        if (record.Classes.Count > 0 && !record.Classes.SequenceEqual(classes))
        {
            throw new InvalidInputException(
                $"Checkpoint '{_options.Checkpoint}' predicts classes [{string.Join(", ", record.Classes)}] but dataset {dataset.Location} has [{string.Join(", ", classes)}].");
        }
        var calibrationRows = Sample(manifest.Where(r => r.Split == _options.CalibrationSplit).ToList(), _options.CalibrationImages, _options.Seed);
        var evalRows = manifest.Where(r => r.Split == _options.EvalSplit).ToList();
        if (calibrationRows.Count == 0 || evalRows.Count == 0)
        {
            throw new InvalidInputException(
                $"Dataset {dataset.Location} has {calibrationRows.Count} '{_options.CalibrationSplit}' rows (Trainer:Quantize:CalibrationSplit) and {evalRows.Count} '{_options.EvalSplit}' rows (Trainer:Quantize:EvalSplit); both are needed.");
        }

        var numClasses = record.Architecture.NumClasses;
        var exportOptions = new OnnxExportOptions
        {
            Channels = record.Architecture.InChannels,
            Height = pre.Height,
            Width = pre.Width,
            NumClasses = numClasses,
            DocString = $"kddata {record.Architecture.Name} from {_options.Checkpoint}",
        };
        ModelProto fp32;
        QdqPlan plan;
        try
        {
            (fp32, plan) = Int8Quantizer.Prepare(checkpoint.Model, exportOptions);
        }
        catch (UnsupportedLayerException e)
        {
            throw new InvalidInputException($"Checkpoint '{_options.Checkpoint}' cannot be exported to ONNX: {e.Message}", e);
        }

        var cache = ImageByteCache.ForStore(dataset, _data.Data.CacheDirectory);
        await cache.PrepareAsync(calibrationRows.Concat(evalRows).Select(r => r.Key), Logger, stoppingToken);
        var images = _data.Images.ForPreprocessing(pre);
        var calibration = DataFor(cache, calibrationRows, images);
        Logger.LogInformation(
            "Quantizing {Checkpoint} ({Architecture}): {Layers} Conv/Gemm layers, {Tensors} calibrated activations; {Method} calibration on {Images} '{Split}' images of {Dataset}",
            _options.Checkpoint, record.Architecture.Name, plan.Layers.Count, plan.Calibrated.Count, _options.ParseCalibration(), calibrationRows.Count, _options.CalibrationSplit, dataset.Location);
        var calibrator = new ActivationCalibrator(_options.ParseCalibration(), _options.Percentile, _options.HistogramBins, _options.Threads);
        var (int8, ranges) = await Int8Quantizer.QuantizeAsync(fp32, plan, calibration, calibrator, _options.WeightBits, stoppingToken);

        var output = Path.GetFullPath(_options.Output);
        Directory.CreateDirectory(output);
        QatSummary? qatReport = null;
        ModelProto? qatFp32 = null;
        if (qat)
        {
            var trained = await TrainQatAsync(checkpoint, images, plan, ranges, exportOptions, output, stoppingToken);
            if (trained is null)
            {
                return ExitCodes.Interrupted;
            }
            (int8, plan, ranges, qatReport, qatFp32) = trained.Value;
        }
        var fp32Bytes = fp32.ToByteArray();
        var int8Bytes = int8.ToByteArray();
        await File.WriteAllBytesAsync(Path.Combine(output, ArtifactFiles.Fp32Onnx), fp32Bytes, stoppingToken);
        await File.WriteAllBytesAsync(Path.Combine(output, ArtifactFiles.Int8Onnx), int8Bytes, stoppingToken);

        Logger.LogInformation("Evaluating fp32 and int8 in ONNX Runtime on {Images} '{Split}' images", evalRows.Count, _options.EvalSplit);
        var evalData = DataFor(cache, evalRows, images);
        ModelOutputs reference;
        ModelOutputs quantized;
        using (var fp32Runner = new OnnxBatchRunner(fp32, _options.Threads))
        {
            reference = await Int8Quantizer.EvaluateAsync(fp32Runner, evalData, numClasses, stoppingToken);
        }
        using (var int8Runner = new OnnxBatchRunner(int8, _options.Threads))
        {
            quantized = await Int8Quantizer.EvaluateAsync(int8Runner, evalData, numClasses, stoppingToken);
        }
        if (quantized.Count == 0 || !quantized.Labels.AsSpan().SequenceEqual(reference.Labels))
        {
            throw new InvalidInputException($"None of the '{_options.EvalSplit}' images of {dataset.Location} could be read, or the two passes read different images.");
        }

        var fp32Metrics = reference.ComputeMetrics(_options.CalibrationBins);
        var int8Metrics = quantized.ComputeMetrics(_options.CalibrationBins);
        var agreement = TeacherAgreement.Compute(quantized.Logits, reference.Logits, numClasses);
        // The check asks whether the int8 kernels compute what the model is. After PTQ that is the fp32 model of the same
        // weights. After QAT it is the fake-quantized model that was trained: the same QDQ graph computed in float (the
        // QAT weights without their quantizers are not a model anyone trained: on the full data they agreed with their int8
        // model less often than the parent did, and failed the check while the int8 model matched the parent's accuracy).
        var ownAgreement = agreement.Top1Agreement;
        if (qatFp32 is not null)
        {
            using var floatRunner = new OnnxBatchRunner(int8, _options.Threads, optimize: false);
            var own = await Int8Quantizer.EvaluateAsync(floatRunner, evalData, numClasses, stoppingToken);
            ownAgreement = TeacherAgreement.Compute(quantized.Logits, own.Logits, numClasses).Top1Agreement;
        }
        var check = new Int8AgreementCheck
        {
            Top1Agreement = ownAgreement,
            Minimum = _options.MinAgreement,
            Images = quantized.Count,
            AcceptLow = _options.AcceptLowAgreement,
        };
        var saturation = PairSaturationCheck.Analyze(int8);
        var cpu = CpuInstructionSet.Current;
        var report = new QuantizationReport
        {
            CreatedAt = DateTimeOffset.UtcNow,
            Method = _options.Method,
            Checkpoint = new QuantizedCheckpoint
            {
                Path = _options.Checkpoint,
                Id = ShortId(record),
                Architecture = record.Architecture.Name,
            },
            Dataset = dataset.Location.ToString(),
            Calibration = new CalibrationSummary
            {
                Method = _options.ParseCalibration().ToString(),
                Split = _options.CalibrationSplit,
                Images = calibrationRows.Count,
                Seed = _options.Seed,
                Percentile = _options.ParseCalibration() == CalibrationMethod.Percentile ? _options.Percentile : null,
                HistogramBins = _options.ParseCalibration() == CalibrationMethod.MinMax ? null : _options.HistogramBins,
                Ranges = RangesOf(plan.Calibrated, ranges),
            },
            Scheme = QdqModelWriter.Describe(_options.WeightBits),
            WeightBits = _options.WeightBits,
            Saturation = WeightSaturationSummary.From(saturation),
            Cpu = cpu,
            Opset = OnnxExportOptions.DefaultOpset,
            EvalSplit = _options.EvalSplit,
            Images = quantized.Count,
            Fp32 = OnnxModelSummary.From(fp32Metrics, fp32Bytes.Length),
            Int8Model = OnnxModelSummary.From(int8Metrics, int8Bytes.Length),
            AccuracyDropPoints = (fp32Metrics.Accuracy - int8Metrics.Accuracy) * 100,
            SizeRatio = (double)int8Bytes.Length / fp32Bytes.Length,
            Top1Agreement = agreement.Top1Agreement,
            AgreementCheck = new AgreementCheckSummary
            {
                Reference = qatFp32 is null ? "the fp32 model" : "the int8 model's QDQ graph computed in float",
                Top1Agreement = check.Top1Agreement,
                Minimum = check.Minimum,
                Passed = check.Passed,
                AcceptedBelowMinimum = !check.Passed && check.AcceptLow,
            },
            MeanKlFp32Int8 = agreement.MeanKlTeacherStudent,
            Qat = qatReport,
        };
        await File.WriteAllBytesAsync(Path.Combine(output, ArtifactFiles.QuantizationReport), RecordJson.Serialize(report), stoppingToken);

        Logger.LogInformation(
            "fp32 accuracy {Fp32:F4} (ECE {Fp32Ece:F4}); int8 accuracy {Int8:F4} (ECE {Int8Ece:F4}); agreement {Agreement:F4}; size {Int8Bytes} / {Fp32Bytes} bytes = {Ratio:F3}x; {Seconds:F1} s",
            fp32Metrics.Accuracy, fp32Metrics.ExpectedCalibrationError, int8Metrics.Accuracy, int8Metrics.ExpectedCalibrationError,
            agreement.Top1Agreement, int8Bytes.Length, fp32Bytes.Length, (double)int8Bytes.Length / fp32Bytes.Length, clock.Elapsed.TotalSeconds);
        Logger.LogInformation("Wrote {Int8}, {Fp32} and {Report} to {Output}", ArtifactFiles.Int8Onnx, ArtifactFiles.Fp32Onnx, ArtifactFiles.QuantizationReport, output);
        Logger.LogInformation("int8 weights: {Bits} bits, {Saturation}; measured on {Cpu} ({Model})", _options.WeightBits, saturation, cpu, cpu.Model);
        if (!saturation.Safe)
        {
            Logger.LogWarning(
                "The int8 model has 8-bit weights that can overflow the int16 pair sum of x86 CPUs without VNNI (AVX2, AVX-512 without VNNI): it is only right on VNNI, AMX or ARM CPUs{Here}",
                cpu.Int8PairsSaturate ? ", and this CPU is one without VNNI" : string.Empty);
        }
        var message = check.Describe("Trainer:Quantize:MinAgreement", "Trainer:Quantize:AcceptLowAgreement");
        if (check.Rejected)
        {
            Logger.LogCritical("{Message}", message);
            return ExitCodes.QualityCheckFailed;
        }
        if (!check.Passed)
        {
            Logger.LogWarning("{Message}", message);
        }
        return ExitCodes.Success;
    }

    /// <summary>First 16 hex digits of the checkpoint's weights' SHA-256; empty when its record has none.</summary>
    private static string ShortId(CheckpointRecord record) => record.WeightsSha256 is { Length: >= 16 } sha ? sha[..16] : string.Empty;

    /// <summary>[min, max] of each tensor in <paramref name="tensors"/>, in that order.</summary>
    private static Dictionary<string, IReadOnlyList<float>> RangesOf(IEnumerable<string> tensors, Dictionary<string, ActivationRange> ranges) =>
        tensors.ToDictionary(t => t, t => (IReadOnlyList<float>)[ranges[t].Min, ranges[t].Max], StringComparer.Ordinal);

    /// <summary>
    /// Quantization-aware training of the checkpoint's convnet from the calibrated <paramref name="ranges"/>, with the
    /// distill stage's objective and data; returns the int8 model exported with the learned ranges, or null when
    /// interrupted (progress is saved under <c>qat/</c>; a rerun resumes, with the ranges started again from the calibration).
    /// </summary>
    private async Task<(ModelProto Int8, QdqPlan Plan, Dictionary<string, ActivationRange> Ranges, QatSummary Report, ModelProto TrainedFp32)?> TrainQatAsync(
        Checkpoint checkpoint, ImageOptions images, QdqPlan plan, Dictionary<string, ActivationRange> ranges, OnnxExportOptions exportOptions, string output, CancellationToken cancellationToken)
    {
        var record = checkpoint.Record;
        if (!ModelFamilies.Is(record.Architecture.Name, ModelFamilies.ConvNet))
        {
            throw new InvalidInputException(
                $"Trainer:Quantize:Method 'qat' supports the {ModelFamilies.ConvNet} family; checkpoint '{_options.Checkpoint}' is '{record.Architecture.Name}' (use ptq).");
        }
        var objective = TrainingObjectives.Create(_data.ObjectiveOptions);
        var curriculum = new DistillationCurriculum(_data.ObjectiveOptions.Curriculum);
        var preprocessing = record.Preprocessing!;
        // The distill stage's data path (offline: committed soft targets re-thresholded at load, labeled + pseudo-labeled
        // batches), through the checkpoint's own preprocessing; evaluated on Trainer:Quantize:EvalSplit without a teacher.
        var inputs = await DistillationInputs.LoadAsync(_stores, (_data with { Images = images }).InputOptions(objective, _loopOptions) with
        {
            EvalTeacher = "none",
            EvalSplit = _options.EvalSplit,
            EvalBatchSize = _options.BatchSize,
        }, TorchSharp.torch.CPU, _loggerFactory, cancellationToken);

        using var model = new QatConvNet(checkpoint.Model, [.. plan.Calibrated.Select(t => ranges[t])], _options.RangeMomentum, _options.WeightBits);
        var parent = new ParentCheckpoint { Path = _options.Checkpoint, Id = ShortId(record) };
        var lineage = Lineages.Qat(inputs.Lineage, parent, _options.Calibration, _options.RangeMomentum);
        var qatOutput = Path.Combine(output, QatTrainingFolder);
        Logger.LogInformation(
            "Quantization-aware training: {Labeled} labeled + {Pseudo} pseudo-labeled images, objective {Objective}, {Epochs} epochs -> {Output}",
            inputs.LabeledImages, inputs.PseudoLabeledImages, objective.Name, _loopOptions.Epochs, qatOutput);
        var progress = TrainingProgressLog.Create(Logger);
        var loop = new TrainingLoop(_loopOptions, objective, TorchSharp.torch.CPU, progress, _loggerFactory.CreateLogger<TrainingLoop>(), QuantizeOptions.QatSectionName);
        var result = await loop.RunAsync(
            new TrainingSetup
            {
                Architecture = record.Architecture,
                Train = inputs.Train,
                Eval = inputs.Eval,
                OutputDirectory = qatOutput,
                Classes = record.Classes,
                Preprocessing = preprocessing,
                Schedule = curriculum.At,
                Lineage = lineage,
            },
            model,
            cancellationToken);
        progress.EndLine();
        if (result.Interrupted)
        {
            Logger.LogWarning("QAT interrupted after {Epochs} complete epochs; progress saved in {Output}. Run again to continue.", result.EpochsCompleted, qatOutput);
            return null;
        }

        model.eval();
        checkpoint.Model.eval();
        var (trainedFp32, trainedPlan) = Int8Quantizer.Prepare(checkpoint.Model, exportOptions);
        if (trainedPlan.Calibrated.Count != model.Ranges.Count)
        {
            throw new InvalidDataException($"The exported QAT graph quantizes {trainedPlan.Calibrated.Count} activations but QAT learned {model.Ranges.Count} ranges.");
        }
        var learned = trainedPlan.Calibrated.Select((t, i) => (t, model.Ranges[i])).ToDictionary(p => p.t, p => p.Item2, StringComparer.Ordinal);
        var int8 = QdqModelWriter.Quantize(trainedFp32, trainedPlan, learned, _options.WeightBits);

        var learnedRanges = RangesOf(trainedPlan.Calibrated, learned);
        var training = new TrainingRecord
        {
            Stage = Lineages.QatStage,
            Parent = parent,
            Lineage = lineage,
            Epochs = result.EpochsCompleted,
            Options = TrainingOptionsRecord.From(_loopOptions),
            ActivationRanges = learnedRanges,
            Int8Model = ArtifactFiles.Int8Onnx,
        };
        var qatRecord = new CheckpointRecord
        {
            Architecture = record.Architecture,
            Classes = record.Classes,
            Preprocessing = preprocessing,
            Training = training,
            Metrics = new Dictionary<string, double> { ["eval_accuracy_fake_quantized"] = result.BestEpoch > 0 ? result.BestEvalAccuracy : double.NaN },
        };
        var qatPath = await CheckpointSerializer.SaveAsync(checkpoint.Model, qatRecord, output, ArtifactFiles.QatCheckpoint, cancellationToken);
        Logger.LogInformation("QAT checkpoint {Path} (parent {Parent})", qatPath, _options.Checkpoint);
        var report = new QatSummary
        {
            Checkpoint = qatPath,
            Parent = parent,
            Epochs = result.EpochsCompleted,
            Metrics = result.MetricsPath,
            LearnedRanges = learnedRanges,
        };
        return (int8, trainedPlan, learned, report, trainedFp32);
    }

    /// <summary>A seeded sample of <paramref name="count"/> rows (all when fewer), in the manifest's order.</summary>
    private static List<LabelRecord> Sample(List<LabelRecord> rows, int count, int seed)
    {
        if (rows.Count <= count)
        {
            return rows;
        }
        var random = new Random(seed);
        var chosen = Enumerable.Range(0, rows.Count).OrderBy(_ => random.Next()).Take(count).Order().ToList();
        return [.. chosen.Select(i => rows[i])];
    }

    private StoreTrainingData DataFor(ImageByteCache cache, IReadOnlyList<LabelRecord> rows, ImageOptions images) =>
        new(cache, rows, images, _data.Data, _options.BatchSize, training: false, seed: 0, _loggerFactory.CreateLogger<StoreTrainingData>());
}
