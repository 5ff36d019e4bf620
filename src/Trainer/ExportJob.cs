using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
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
    private const string OnnxFile = "model.onnx";
    private const string Int8File = "model.int8.onnx";
    private const string CheckpointName = "model";
    private const int ParityImages = 64;

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
        var batchSizes = ParseBatchSizes(_options.LatencyBatchSizes);
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
        var timing = labeled ?? EvaluationImages.Random(ParityImages, spec.InChannels, pre.Height, pre.Width, spec.NumClasses, seed: 1);

        using var session = new OnnxModelSession(onnxBytes, _options.Threads);
        var parity = CheckParity(model, session, timing, labeled is null ? "seeded random normal inputs" : $"first images of split '{_options.Split}'");
        Logger.LogInformation("Parity ONNX Runtime vs TorchSharp on {Images} images: max |diff| {Diff:E2}, top-1 agreement {Agreement:P2}",
            parity.Images, parity.MaxAbsDifference, parity.Top1Agreement);
        if (parity.MaxAbsDifference > _options.ParityTolerance)
        {
            Logger.LogCritical("The exported model's logits differ from TorchSharp's by {Diff:E2} > Trainer:Export:ParityTolerance {Tolerance:E0}; nothing written",
                parity.MaxAbsDifference, _options.ParityTolerance);
            return ExitCodes.Failure;
        }

        Directory.CreateDirectory(output);
        if (int8Path is not null && int8Path != Path.Combine(output, Int8File))
        {
            // The int8 model ships with the export (and is published with it) under the agreed name.
            var copy = Path.Combine(output, Int8File);
            File.Copy(int8Path, copy, overwrite: true);
            int8Path = copy;
        }
        var onnxPath = Path.Combine(output, OnnxFile);
        await File.WriteAllBytesAsync(onnxPath, onnxBytes, stoppingToken);
        var exportedRecord = record with { Training = WithExportEntry(record, onnxBytes, onnx.OpsetImport[0].Version) };
        var recordPath = await CheckpointSerializer.SaveAsync(model, exportedRecord, output, CheckpointName, stoppingToken);
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
            int8Report = CheckInt8(int8Path, session, int8, labeled, stoppingToken);
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
            Machine = DescribeMachine(),
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

        List<string> files = [OnnxFile, Path.GetFileName(weightsPath), Path.GetFileName(recordPath), .. charts];
        if (int8Path is not null)
        {
            files.Insert(1, Int8File);
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
            // Record last: a record in the store always refers to weights already complete there.
            var order = files.Where(f => f != Path.GetFileName(recordPath)).Append(ExportReport.FileName).Append(ModelCardWriter.FileName).Append(Path.GetFileName(recordPath));
            await PublishAsync(publishStore, output, order, stoppingToken);
            Logger.LogInformation("Published to {Location}; as a Labeler teacher: --Labeler:Teacher {Location}{Record}", publish, publish, Path.GetFileName(recordPath));
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// The int8 model's scheme (from its metadata), its overflow check, and, on the labeled images, its top-1 agreement
    /// with its own QDQ graph computed in float (ONNX Runtime without graph optimizations: no integer kernels), the
    /// check, and with the exported fp32 model, reported. The float run is the reference because the int8 file may
    /// come from other weights than the exported checkpoint (QAT trains them further), while the question export asks
    /// is whether this CPU's integer kernels compute that int8 model.
    /// </summary>
    private Int8VariantReport CheckInt8(string path, OnnxModelSession fp32, OnnxModelSession int8, EvaluationImages? labeled, CancellationToken cancellationToken)
    {
        var bytes = File.ReadAllBytes(path);
        var model = Onnx.ModelProto.Parser.ParseFrom(bytes);
        var saturation = PairSaturationCheck.Analyze(model);
        Int8AgreementCheck? agreement = null;
        double? withFp32 = null;
        if (labeled is not null)
        {
            var quantized = VariantMeasurer.Logits(int8, labeled, _options.BatchSize, cancellationToken);
            float[] simulated;
            using (var reference = new OnnxModelSession(bytes, _options.Threads, optimize: false))
            {
                simulated = VariantMeasurer.Logits(reference, labeled, _options.BatchSize, cancellationToken);
            }
            agreement = new Int8AgreementCheck
            {
                Top1Agreement = TeacherAgreement.Compute(quantized, simulated, labeled.NumClasses).Top1Agreement,
                Minimum = _options.MinInt8Agreement,
                Images = labeled.Count,
                AcceptLow = _options.AcceptLowInt8Agreement,
            };
            withFp32 = TeacherAgreement.Compute(quantized, VariantMeasurer.Logits(fp32, labeled, _options.BatchSize, cancellationToken), labeled.NumClasses).Top1Agreement;
        }
        return new Int8VariantReport
        {
            File = Path.GetFileName(path),
            WeightBits = QdqModelWriter.WeightBitsOf(model),
            Scheme = model.MetadataProps.FirstOrDefault(p => p.Key == QdqModelWriter.SchemeKey)?.Value,
            SafeWithoutVnni = saturation.Safe,
            WorstPairSum = saturation.WorstPairSum,
            Agreement = agreement,
            AgreementWithExportedFp32 = withFp32,
        };
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
        var besideCheckpoint = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_options.Checkpoint))!, Int8File);
        return new[] { Path.Combine(output, Int8File), besideCheckpoint }.FirstOrDefault(File.Exists);
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

    private ExportParity CheckParity(torch.nn.Module<torch.Tensor, torch.Tensor> model, OnnxModelSession session, EvaluationImages images, string source)
    {
        var count = Math.Min(ParityImages, images.Count);
        var pixels = images.Batch(count);
        float[] expected;
        using (torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            expected = model.call(torch.tensor(pixels, [count, images.Channels, images.Height, images.Width])).data<float>().ToArray();
        }
        var actual = session.Run(pixels, count);
        var max = expected.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        var k = images.NumClasses;
        var agree = Enumerable.Range(0, count).Count(i => ArgMax(expected.AsSpan(i * k, k)) == ArgMax(actual.AsSpan(i * k, k)));
        return new ExportParity { Images = count, Source = source, MaxAbsDifference = max, Tolerance = _options.ParityTolerance, Top1Agreement = (double)agree / count };
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

    private TrainingRecord WithExportEntry(CheckpointRecord record, byte[] onnxBytes, long opset) => record.Training with
    {
        Export = new CheckpointExportRecord
        {
            Stage = "export",
            Parent = Path.GetFullPath(_options.Checkpoint),
            ParentWeightsSha256 = record.WeightsSha256,
            Onnx = OnnxFile,
            OnnxSha256 = Convert.ToHexStringLower(SHA256.HashData(onnxBytes)),
            Opset = opset,
        },
    };

    private static async Task PublishAsync(IObjectStore store, string folder, IEnumerable<string> files, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            await using var content = File.OpenRead(Path.Combine(folder, file));
            try
            {
                await store.CreateAsync(file, content, cancellationToken);
            }
            catch (ObjectAlreadyExistsException)
            {
                // A re-export replaces the published files (the record, written last, decides what they are).
                var existing = await store.GetPropertiesAsync(file, cancellationToken);
                content.Position = 0;
                await store.ReplaceAsync(file, content, existing.ETag, cancellationToken);
            }
        }
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

    private static string DescribeMachine()
    {
        string? cpu = null;
        if (File.Exists("/proc/cpuinfo"))
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim();
        }
        return $"{Environment.ProcessorCount} logical CPUs{(cpu is null ? string.Empty : $" ({cpu})")}, {RuntimeInformation.OSDescription}";
    }

    private static int[] ParseBatchSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray();
        return sizes.Length > 0 && sizes.All(n => n is >= 1 and <= 65536)
            ? sizes
            : throw new InvalidInputException($"Trainer:Export:LatencyBatchSizes '{text}' must be comma-separated batch sizes between 1 and 65536, e.g. 1,64.");
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }
        return best;
    }
}
