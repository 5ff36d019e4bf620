using System.Globalization;
using KdData.Datasets;
using KdData.Evaluation;
using KdData.Export;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Models;
using KdData.Quantization;
using KdData.Records;
using KdData.Storage;
using KdData.Training;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer export</c>: turns a checkpoint into files that deploy and says what they cost. Writes
/// <c>model.onnx</c> (<see cref="OnnxExporter"/>; refused with exit 1 if its logits differ from TorchSharp's by more
/// than <see cref="ExportOptions.ParityTolerance"/>), <c>model.safetensors</c> + <c>model.json</c> (the checkpoint
/// with an <c>export</c> entry naming its parent), <c>export.json</c> (<see cref="ExportReport"/>), <c>model-card.md</c>
/// and the trade-off charts; then optionally copies them to a store location. An int8 model beside it is checked
/// (scheme, overflow on CPUs without VNNI, top-1 agreement with fp32): one that fails is written but not published,
/// exit 5 (<see cref="ExportOptions.MinInt8Agreement"/>). Bad input (missing checkpoint, no
/// preprocessing recorded, an unsupported layer, a missing dataset or compared file) stops with exit 2 naming it.
/// </summary>
public sealed class ExportJob : JobService
{
    private readonly ObjectStoreFactory _stores;
    private readonly ExportOptions _options;
    private readonly TrainingDataOptions _dataOptions;
    private readonly ImageOptions _imageOptions;
    private readonly ILoggerFactory _loggerFactory;

    public ExportJob(
        ObjectStoreFactory stores,
        IOptions<ExportOptions> options,
        IOptions<TrainingDataOptions> dataOptions,
        IOptions<ImageOptions> imageOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<ExportJob>())
    {
        _stores = stores;
        _options = options.Value;
        _dataOptions = dataOptions.Value;
        _imageOptions = imageOptions.Value;
        _loggerFactory = loggerFactory;
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var batchSizes = _options.ParseLatencyBatchSizes();
        var publishStore = OpenPublishLocation();
        // One thread count for every engine, so the latency table compares like with like.
        torch.set_num_threads(_options.Threads);
        using var checkpoint = await CheckpointInput.LoadAsync(_options.Checkpoint, "Trainer:Export:Checkpoint", torch.CPU, stoppingToken);
        var record = checkpoint.Record;
        var pre = record.Preprocessing
            ?? throw new InvalidInputException($"Checkpoint '{_options.Checkpoint}' records no preprocessing (input size), so its ONNX input shape is unknown.");
        var spec = record.Architecture;
        var model = checkpoint.Model;
        model.eval();

        var exportOptions = new OnnxExportOptions
        {
            Channels = spec.InChannels,
            Height = pre.Height,
            Width = pre.Width,
            NumClasses = spec.NumClasses,
            DocString = $"kddata export of {_options.Checkpoint} (weights sha256 {record.WeightsSha256})",
        };
        Onnx.ModelProto onnx;
        try
        {
            onnx = OnnxExporter.Export(model, exportOptions);
        }
        catch (UnsupportedLayerException e)
        {
            throw new InvalidInputException($"Checkpoint '{_options.Checkpoint}' ({spec.Name}) cannot be exported: {e.Message}", e);
        }
        var onnxBytes = OnnxExporter.ToBytes(onnx);

        var output = Path.GetFullPath(_options.Output);
        var int8Path = ResolveInt8(output);
        var compare = (_options.Compare ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var path in compare)
        {
            if (!File.Exists(path) || !(path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)))
            {
                throw new InvalidInputException($"Trainer:Export:Compare '{path}' is not an existing checkpoint record (.json) or ONNX model (.onnx).");
            }
        }

        var (labeled, data, classes) = await LoadDatasetAsync(record, stoppingToken);
        var timing = labeled ?? EvaluationImages.Random(OnnxParity.DefaultImages, spec.InChannels, pre.Height, pre.Width, spec.NumClasses, seed: 1);

        using var session = new OnnxModelSession(onnxBytes, _options.Threads);
        var parity = OnnxParity.Measure(model, session, timing, labeled is null ? "seeded random normal inputs" : $"first images of split '{_options.Split}'", _options.ParityTolerance);
        Logger.LogInformation("Parity ONNX Runtime vs TorchSharp on {Images} images: max |diff| {Diff:E2}, top-1 agreement {Agreement:P2}",
            parity.Images, parity.MaxAbsDifference, parity.Top1Agreement);
        if (parity.MaxAbsDifference > _options.ParityTolerance)
        {
            Logger.LogCritical("The exported model's logits differ from TorchSharp's by {Diff:E2} > Trainer:Export:ParityTolerance {Tolerance:E0}; nothing written",
                parity.MaxAbsDifference, _options.ParityTolerance);
            return ExitCodes.Failure;
        }

        Directory.CreateDirectory(output);
        if (int8Path is not null && int8Path != Path.Combine(output, ArtifactFiles.Int8Onnx))
        {
            // The int8 model ships with the export (and is published with it) under the agreed name.
            var copy = Path.Combine(output, ArtifactFiles.Int8Onnx);
            File.Copy(int8Path, copy, overwrite: true);
            int8Path = copy;
        }
        var onnxPath = Path.Combine(output, ArtifactFiles.Onnx);
        await File.WriteAllBytesAsync(onnxPath, onnxBytes, stoppingToken);
        var exportedRecord = record with
        {
            Training = record.Training with { Export = Lineages.Export(Path.GetFullPath(_options.Checkpoint), record.WeightsSha256, onnxBytes, onnx.OpsetImport[0].Version) },
        };
        var recordPath = await CheckpointSerializer.SaveAsync(model, exportedRecord, output, ArtifactFiles.ExportedCheckpoint, stoppingToken);
        var weightsPath = CheckpointSerializer.WeightsPathFor(recordPath, exportedRecord.WeightsFormat);

        var measurer = new VariantMeasurer(_options.Measure, batchSizes, _options.Warmup, _options.Iterations, _options.BatchSize, _options.CalibrationBins);
        var variants = new List<ExportVariant>();
        var (torchVariant, _) = await measurer.MeasureTorchAsync(VariantName("fp32 TorchSharp"), model, weightsPath, timing, labeled, stoppingToken);
        variants.Add(torchVariant);
        var (onnxVariant, onnxMetrics) = measurer.MeasureOnnx(VariantName("fp32 ONNX Runtime"), "fp32", session, onnxPath, timing, labeled, stoppingToken);
        variants.Add(onnxVariant);
        Int8VariantReport? int8Report = null;
        if (int8Path is not null)
        {
            using var int8 = OpenSession(int8Path, "Trainer:Export:Int8Model", exportOptions);
            variants.Add(measurer.MeasureOnnx(VariantName($"{_options.Int8Label} ONNX Runtime"), "int8", int8, int8Path, timing, labeled, stoppingToken).Variant);
            int8Report = Int8VariantCheck.Run(int8Path, session, int8, labeled, new Int8VariantCheckOptions
            {
                Threads = _options.Threads,
                BatchSize = _options.BatchSize,
                MinAgreement = _options.MinInt8Agreement,
                AcceptLow = _options.AcceptLowInt8Agreement,
            }, stoppingToken);
        }
        foreach (var path in compare)
        {
            variants.Add(await MeasureComparedAsync(measurer, path, exportOptions, timing, labeled, stoppingToken));
        }

        var report = new ExportReport
        {
            CreatedAt = DateTimeOffset.UtcNow,
            Checkpoint = _options.Checkpoint,
            CheckpointId = record.WeightsSha256![..16],
            Architecture = spec.Name,
            Parameters = ModelComplexity.Parameters(model),
            Macs = ModelComplexity.Macs(model, spec.InChannels, pre.Height, pre.Width),
            Opset = onnx.OpsetImport[0].Version,
            Input = $"{exportOptions.InputName} [{exportOptions.BatchAxisName}, {spec.InChannels}, {pre.Height}, {pre.Width}]",
            Output = $"{exportOptions.OutputName} [{exportOptions.BatchAxisName}, {spec.NumClasses}]",
            Files = new Dictionary<string, long>(),
            Parity = parity,
            Threads = _options.Threads,
            Machine = MachineDescription.Current(),
            InstructionSet = CpuInstructionSet.Current,
            Quantized = int8Report,
            Data = data,
            Classes = classes,
            Metrics = onnxMetrics,
            Variants = variants,
            Lineage = record.Training.Lineage,
            PublishedTo = publishStore?.Location.ToString(),
        };

        var charts = new List<string>();
        if (ExportCharts.SaveAccuracyVersusLatency(Path.Combine(output, ModelCardWriter.LatencyChart), variants))
        {
            charts.Add(ModelCardWriter.LatencyChart);
        }
        if (ExportCharts.SaveAccuracyVersusSize(Path.Combine(output, ModelCardWriter.SizeChart), variants))
        {
            charts.Add(ModelCardWriter.SizeChart);
        }

        List<string> files = [ArtifactFiles.Onnx, Path.GetFileName(weightsPath), Path.GetFileName(recordPath), .. charts];
        if (int8Path is not null)
        {
            files.Insert(1, ArtifactFiles.Int8Onnx);
        }
        report = report with { Files = files.ToDictionary(f => f, f => new FileInfo(Path.Combine(output, f)).Length) };
        await File.WriteAllBytesAsync(Path.Combine(output, ExportReport.FileName), RecordJson.Serialize(report), stoppingToken);
        await File.WriteAllTextAsync(Path.Combine(output, ModelCardWriter.FileName), ModelCardWriter.Render(report, exportedRecord, charts), stoppingToken);
        LogSummary(report, output);
        if (int8Report is not null && Int8Rejected(int8Report))
        {
            // Written locally for inspection; never published.
            return ExitCodes.QualityCheckFailed;
        }

        if (publishStore is not null && report.PublishedTo is { } publish)
        {
            await ExportPublisher.PublishAsync(publishStore, output, files, Path.GetFileName(recordPath), stoppingToken);
            Logger.LogInformation("Published to {Location}; as a Labeler teacher: --Labeler:Teacher {Location}{Record}", publish, publish, Path.GetFileName(recordPath));
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// Logs the int8 check and says whether it stops the export: agreement under Trainer:Export:MinInt8Agreement, or (without
    /// a dataset to compare on) weights that overflow on this very CPU; either unless Trainer:Export:AcceptLowInt8Agreement.
    /// </summary>
    private bool Int8Rejected(Int8VariantReport int8)
    {
        var cpu = CpuInstructionSet.Current;
        if (!int8.SafeWithoutVnni)
        {
            Logger.LogWarning("{File} has 8-bit weights that can overflow the int16 pair sum of x86 CPUs without VNNI (worst {Sum} > {Limit}); it is only right on VNNI, AMX or ARM CPUs. This CPU: {Cpu}",
                int8.File, int8.WorstPairSum, PairSaturationCheck.PairLimit, cpu);
        }
        if (int8.Agreement is { } agreement)
        {
            var message = agreement.Describe("Trainer:Export:MinInt8Agreement", "Trainer:Export:AcceptLowInt8Agreement")
                .Replace("with fp32", "with its float computation", StringComparison.Ordinal);
            if (agreement.Rejected)
            {
                Logger.LogCritical("{Message}; the files are in the output folder, nothing was published", message);
                return true;
            }
            Logger.Log(agreement.Passed ? LogLevel.Information : LogLevel.Warning, "{Message}", message);
            return false;
        }
        if (!int8.SafeWithoutVnni && cpu.Int8PairsSaturate && !_options.AcceptLowInt8Agreement)
        {
            Logger.LogCritical("{File} overflows on this CPU ({Cpu}) and no dataset was given to measure how much (--dataset); set Trainer:Export:AcceptLowInt8Agreement=true to keep it anyway. Nothing was published",
                int8.File, cpu.Level);
            return true;
        }
        return false;
    }

    /// <summary>The exported model's variant name with <see cref="ExportOptions.VariantPrefix"/> before it.</summary>
    private string VariantName(string name) => string.IsNullOrWhiteSpace(_options.VariantPrefix) ? name : $"{_options.VariantPrefix.Trim()} {name}";

    /// <summary>The store to publish to, checked before any work; null when not publishing.</summary>
    private IObjectStore? OpenPublishLocation()
    {
        if (string.IsNullOrWhiteSpace(_options.Publish))
        {
            return null;
        }
        try
        {
            return _stores.Open(_options.Publish);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"Trainer:Export:Publish '{_options.Publish}': {e.Message}", e);
        }
    }

    /// <summary>The int8 model to measure: the configured one (must exist), else model.int8.onnx in the output or beside the checkpoint.</summary>
    private string? ResolveInt8(string output)
    {
        if (!string.IsNullOrWhiteSpace(_options.Int8Model))
        {
            return File.Exists(_options.Int8Model)
                ? Path.GetFullPath(_options.Int8Model)
                : throw new InvalidInputException($"Trainer:Export:Int8Model '{_options.Int8Model}' does not exist.");
        }
        var besideCheckpoint = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_options.Checkpoint))!, ArtifactFiles.Int8Onnx);
        return new[] { Path.Combine(output, ArtifactFiles.Int8Onnx), besideCheckpoint }.FirstOrDefault(File.Exists);
    }

    private async Task<(EvaluationImages? Images, EvaluatedData? Data, IReadOnlyList<string> Classes)> LoadDatasetAsync(CheckpointRecord record, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.Dataset))
        {
            return (null, null, record.Classes);
        }
        IObjectStore dataset;
        try
        {
            dataset = _stores.Open(_options.Dataset);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"Trainer:Export:Dataset '{_options.Dataset}': {e.Message}", e);
        }
        var (manifest, classes) = await DatasetFiles.ReadAsync(dataset, cancellationToken);
        if (record.Classes.Count > 0 && !record.Classes.SequenceEqual(classes))
        {
            throw new InvalidInputException($"Checkpoint '{_options.Checkpoint}' predicts classes [{string.Join(", ", record.Classes)}] but dataset {dataset.Location} has [{string.Join(", ", classes)}].");
        }
        var rows = manifest.Where(r => string.IsNullOrEmpty(_options.Split) || r.Split == _options.Split).ToList();
        if (rows.Count == 0)
        {
            throw new InvalidInputException($"Dataset {dataset.Location} has no rows in split '{_options.Split}'.");
        }

        var pre = record.Preprocessing!;
        var images = _imageOptions.ForPreprocessing(pre);
        var cache = ImageByteCache.ForStore(dataset, _dataOptions.CacheDirectory);
        await cache.PrepareAsync(rows.Select(r => r.Key), Logger, cancellationToken);
        var source = new StoreTrainingData(cache, rows, images, _dataOptions, _options.BatchSize,
            training: false, seed: 0, _loggerFactory.CreateLogger<StoreTrainingData>());
        var loaded = await InMemoryTrainingData.LoadAsync(source, _options.BatchSize, cancellationToken);
        if (loaded.Count == 0)
        {
            throw new InvalidInputException($"None of the {rows.Count} images of split '{_options.Split}' in {dataset.Location} could be read.");
        }
        Logger.LogInformation("Loaded {Images} images of split '{Split}' from {Dataset}", loaded.Count, _options.Split, dataset.Location);
        var labeled = new EvaluationImages(loaded.Pixels.ToArray(), loaded.Labels.ToArray(), pre.Channels, pre.Height, pre.Width, record.Architecture.NumClasses);
        var data = new EvaluatedData
        {
            Dataset = dataset.Location.ToString(),
            Manifest = DatasetLayout.ManifestKey,
            Split = _options.Split,
            Listed = rows.Count,
            Skipped = source.SkippedImages,
        };
        return (labeled, data, classes);
    }

    private async Task<ExportVariant> MeasureComparedAsync(VariantMeasurer measurer, string path, OnnxExportOptions expected, EvaluationImages timing, EvaluationImages? labeled, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) + "/" + Path.GetFileName(path);
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            using var session = OpenSession(path, "Trainer:Export:Compare", expected);
            var precision = path.Contains("int8", StringComparison.OrdinalIgnoreCase) ? "int8" : "fp32";
            return measurer.MeasureOnnx($"{name} ({precision} ONNX Runtime)", precision, session, Path.GetFullPath(path), timing, labeled, cancellationToken).Variant;
        }

        using var other = await CheckpointInput.LoadAsync(path, "Trainer:Export:Compare", torch.CPU, cancellationToken);
        var spec = other.Record.Architecture;
        if (spec.InChannels != expected.Channels || spec.NumClasses != expected.NumClasses
            || other.Record.Preprocessing is not { } pre || pre.Width != expected.Width || pre.Height != expected.Height)
        {
            throw new InvalidInputException($"Trainer:Export:Compare '{path}' takes other inputs or predicts other classes than the exported checkpoint.");
        }
        var weights = CheckpointSerializer.WeightsPathFor(path, other.Record.WeightsFormat);
        var (variant, _) = await measurer.MeasureTorchAsync($"{name} (fp32 TorchSharp)", other.Model, Path.GetFullPath(weights), timing, labeled, cancellationToken);
        return variant;
    }

    private OnnxModelSession OpenSession(string path, string setting, OnnxExportOptions expected)
    {
        OnnxModelSession session;
        try
        {
            session = new OnnxModelSession(File.ReadAllBytes(path), _options.Threads);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new InvalidInputException($"{setting} '{path}' is not a model ONNX Runtime can load: {e.Message}", e);
        }
        var shape = session.InputShape;
        if (shape.Count != 4 || shape[1] != expected.Channels || shape[2] != expected.Height || shape[3] != expected.Width)
        {
            session.Dispose();
            throw new InvalidInputException($"{setting} '{path}' takes input [{string.Join(", ", shape)}], not [batch, {expected.Channels}, {expected.Height}, {expected.Width}].");
        }
        return session;
    }

    private void LogSummary(ExportReport report, string output)
    {
        Logger.LogInformation("Exported {Architecture} ({Parameters:N0} parameters, {Macs:N0} MACs), opset {Opset}, {Threads} thread(s), {Machine}",
            report.Architecture, report.Parameters, report.Macs, report.Opset, report.Threads, report.Machine);
        foreach (var v in report.Variants)
        {
            var accuracy = v.Accuracy is { } a ? a.ToString("P2", CultureInfo.InvariantCulture) : "-";
            var latency = string.Join("; ", v.Latency.Select(l => string.Create(CultureInfo.InvariantCulture,
                $"batch {l.Batch}: P50 {l.P50Ms:F3} / P95 {l.P95Ms:F3} / P99 {l.P99Ms:F3} ms, {l.ImagesPerSecond:F0} img/s")));
            var memory = v.PeakResidentBytes is { } bytes ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB") : "-";
            Logger.LogInformation("{Variant}: {Size:N0} bytes, accuracy {Accuracy}, peak RSS {Memory}; {Latency}", v.Name, v.FileBytes, accuracy, memory, latency);
        }
        Logger.LogInformation("Wrote {Report}, {Card} and the model files to {Output}", ExportReport.FileName, ModelCardWriter.FileName, output);
    }
}
