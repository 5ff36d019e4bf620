using System.Diagnostics;
using System.Globalization;
using KdData.Datasets;
using KdData.Hosting;
using KdData.Models;
using KdData.Records;
using KdData.Storage;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer pipeline</c>: the whole compression recipe in one resumable run. distill (<c>1-distill/</c>) ->
/// prune with its KD fine-tune (<c>2-prune/</c>) -> int8 quantization (<c>3-quantize/ptq/</c>, plus
/// <c>3-quantize/qat/</c> with <c>--qat true</c>) -> export of the pruned model with every variant measured
/// (<c>4-export/</c>: the unpruned student, the pruned fp32 model, the int8 model(s)). Each stage is that stage's own
/// command run in process by <see cref="StageRunner"/> (settings, validation, checkpoints, lineage, resume and exit
/// codes are the stage's); each reads the previous stage's checkpoint record, whose path its own record names as
/// parent. After a stage finishes, <c>pipeline.json</c> (<see cref="PipelineManifest"/>) records its record's path and
/// SHA-256 and those of its input. A rerun skips a stage whose record is unchanged and whose input is still the one it
/// was made from; an interrupted stage (not recorded) resumes in its folder; a finished stage whose input changed is
/// redone from scratch (its folder is cleared), and so are the stages after it. Exit codes: 0 done, 2 bad input (naming
/// it), 3 interrupted (rerun to continue).
/// </summary>
public sealed class PipelineJob : JobService
{
    public const string DistillStage = "distill";
    public const string PruneStage = "prune";
    public const string QuantizeStage = "quantize";
    public const string ExportStage = "export";

    public const string DistillFolder = "1-distill";
    public const string PruneFolder = "2-prune";
    public const string QuantizeFolder = "3-quantize";
    public const string ExportFolder = "4-export";

    private readonly ObjectStoreFactory _stores;
    private readonly PipelineOptions _options;
    private readonly TrainingDataOptions _dataOptions;
    private readonly StageRunner _stages;

    public PipelineJob(
        ObjectStoreFactory stores,
        IOptions<PipelineOptions> options,
        IOptions<TrainingDataOptions> dataOptions,
        IConfiguration configuration,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILogger<PipelineJob> logger)
        : base(lifetime, outcome, logger)
    {
        _stores = stores;
        _options = options.Value;
        _dataOptions = dataOptions.Value;
        _stages = new StageRunner(configuration);
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var given = await CheckInputsAsync(_stores, _options, _dataOptions, stoppingToken);

        var output = Path.GetFullPath(_options.Output);
        Directory.CreateDirectory(output);
        var manifest = await PipelineManifest.ReadAsync(output, stoppingToken);
        Logger.LogInformation(
            "Pipeline in {Output}: {Distill} -> prune to {Target:P0} of the MACs ({Steps} steps, {FineTune} KD fine-tune epochs each) -> int8 {Quantize} -> export",
            output, given is null ? $"distill ({_options.Epochs} epochs)" : $"student {given.Record}", _options.TargetMacs, _options.PruneSteps,
            _options.FineTuneEpochs, _options.Qat ? "PTQ + QAT" : "PTQ");

        PipelineStageResult student;
        if (given is not null)
        {
            student = given;
            manifest = manifest.With(given);
            await manifest.WriteAsync(output, stoppingToken);
        }
        else
        {
            var (code, result) = await StageAsync(manifest, output, DistillStage, DistillFolder, null, DistillSettings(), DistillAsync, stoppingToken);
            if (result is null)
            {
                return code;
            }
            (student, manifest) = (result, manifest.With(result));
        }

        var (pruneCode, pruned) = await StageAsync(manifest, output, PruneStage, PruneFolder, student, PruneSettings(), PruneAsync, stoppingToken);
        if (pruned is null)
        {
            return pruneCode;
        }
        manifest = manifest.With(pruned);

        var (quantizeCode, quantized) = await StageAsync(manifest, output, QuantizeStage, QuantizeFolder, pruned, QuantizeSettings(), QuantizeAsync, stoppingToken);
        if (quantized is null)
        {
            return quantizeCode;
        }
        manifest = manifest.With(quantized);

        var exportSettings = ExportSettings(student, pruned, quantized);
        var (exportCode, exported) = await StageAsync(manifest, output, ExportStage, ExportFolder, quantized, exportSettings,
            (folder, _, ct) => ExportAsync(folder, exportSettings, ct), stoppingToken);
        if (exported is null)
        {
            return exportCode;
        }
        manifest = manifest.With(exported);

        Logger.LogInformation("Pipeline done: {Manifest}; model card {Card}", Path.Combine(output, PipelineManifest.FileName), exported.Outputs["model_card"]);
        return ExitCodes.Success;
    }

    /// <summary>
    /// Runs one stage unless <paramref name="manifest"/> says it finished on this same input, then records it in
    /// <c>pipeline.json</c>. Returns the stage's result, or no result and the exit code of a stage that stopped early.
    /// </summary>
    private async Task<(int Code, PipelineStageResult? Result)> StageAsync(
        PipelineManifest manifest, string output, string stage, string folderName, PipelineStageResult? input, Dictionary<string, string?> settings,
        Func<string, PipelineStageResult?, CancellationToken, Task<(int Code, PipelineStageResult? Result)>> body,
        CancellationToken cancellationToken)
    {
        var folder = Path.Combine(output, folderName);
        if (manifest.Find(stage) is { } previous)
        {
            var reason = await StaleReasonAsync(previous, input, settings, cancellationToken);
            if (reason is null)
            {
                Logger.LogInformation("Stage {Stage} is done ({Record}); skipped", stage, previous.Record);
                return (ExitCodes.Success, previous);
            }
            Logger.LogWarning("Stage {Stage} is redone from scratch: {Reason}", stage, reason);
            if (Directory.Exists(folder))
            {
                // Its checkpoints were made from another input: resuming from them would mix two lineages.
                Directory.Delete(folder, recursive: true);
            }
        }
        else if (Directory.Exists(folder))
        {
            Logger.LogInformation("Stage {Stage}: resuming the interrupted run in {Folder}", stage, folder);
        }

        var clock = Stopwatch.StartNew();
        Logger.LogInformation("Stage {Stage} -> {Folder}", stage, folder);
        var (code, result) = await body(folder, input, cancellationToken);
        if (result is null)
        {
            return (code, null);
        }
        result = result with
        {
            Folder = folder,
            Input = input?.Record,
            InputSha256 = input?.RecordSha256,
            Settings = settings,
            FinishedAt = DateTimeOffset.UtcNow,
            Seconds = clock.Elapsed.TotalSeconds,
        };
        await manifest.With(result).WriteAsync(output, CancellationToken.None);
        Logger.LogInformation("Stage {Stage} done in {Seconds:F0} s: {Record}", stage, result.Seconds, result.Record);
        return (ExitCodes.Success, result);
    }

    /// <summary>Why a recorded stage cannot be reused, or null when it can.</summary>
    private static async Task<string?> StaleReasonAsync(PipelineStageResult previous, PipelineStageResult? input, Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var sha = await PipelineManifest.Sha256Async(previous.Record, cancellationToken);
        if (sha is null)
        {
            return $"its record {previous.Record} is gone";
        }
        if (!string.Equals(sha, previous.RecordSha256, StringComparison.OrdinalIgnoreCase))
        {
            return $"its record {previous.Record} changed since it finished";
        }
        if (previous.Outputs.Values.FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            return $"its output {missing} is gone";
        }
        if (input is not null && (!string.Equals(previous.Input, input.Record, StringComparison.Ordinal)
            || !string.Equals(previous.InputSha256, input.RecordSha256, StringComparison.OrdinalIgnoreCase)))
        {
            return $"it was made from {previous.Input} (SHA-256 {previous.InputSha256}), now the input is {input.Record} (SHA-256 {input.RecordSha256})";
        }
        var changed = settings.Where(s => !previous.Settings.TryGetValue(s.Key, out var value) || !string.Equals(value, s.Value, StringComparison.Ordinal))
            .Select(s => $"{s.Key} {previous.Settings.GetValueOrDefault(s.Key) ?? "(unset)"} -> {s.Value ?? "(unset)"}").ToList();
        if (changed.Count > 0 || previous.Settings.Count != settings.Count)
        {
            return $"its settings changed ({string.Join(", ", changed)})";
        }
        return null;
    }

    private Dictionary<string, string?> DistillSettings() => new()
    {
        ["Trainer:Distill:Epochs"] = Invariant(_options.Epochs),
    };

    private async Task<(int, PipelineStageResult?)> DistillAsync(string folder, PipelineStageResult? input, CancellationToken cancellationToken)
    {
        var code = await RunStageAsync(TrainerCommands.Distill, new Dictionary<string, string?>(DistillSettings())
        {
            ["Trainer:Distill:Output"] = folder,
        }, cancellationToken);
        var last = Path.Combine(folder, ArtifactFiles.RecordOf(ArtifactFiles.LastCheckpoint));
        return code != ExitCodes.Success ? (code, null) : (code, await ResultAsync(DistillStage, last, new()
        {
            ["last"] = last,
            ["best"] = Path.Combine(folder, ArtifactFiles.RecordOf(ArtifactFiles.BestCheckpoint)),
            ["metrics"] = Path.Combine(folder, ArtifactFiles.Metrics),
        }, cancellationToken));
    }

    private Dictionary<string, string?> PruneSettings() => new()
    {
        ["Trainer:Prune:TargetMacs"] = Invariant(_options.TargetMacs),
        ["Trainer:Prune:TargetParams"] = null,
        ["Trainer:Prune:Steps"] = Invariant(_options.PruneSteps),
        ["Trainer:Prune:Epochs"] = Invariant(_options.FineTuneEpochs),
    };

    private async Task<(int, PipelineStageResult?)> PruneAsync(string folder, PipelineStageResult? input, CancellationToken cancellationToken)
    {
        var code = await RunStageAsync(TrainerCommands.Prune, new Dictionary<string, string?>(PruneSettings())
        {
            ["Trainer:Prune:Checkpoint"] = input!.Record,
            ["Trainer:Prune:Output"] = folder,
        }, cancellationToken);
        var pruned = Path.Combine(folder, ArtifactFiles.RecordOf(ArtifactFiles.PrunedCheckpoint));
        return code != ExitCodes.Success ? (code, null) : (code, await ResultAsync(PruneStage, pruned, new() { ["pruned"] = pruned }, cancellationToken));
    }

    /// <summary>What the pipeline decides for the quantize stage (the method's own settings pass through unchanged).</summary>
    private Dictionary<string, string?> QuantizeSettings() => new()
    {
        [$"{PipelineOptions.SectionName}:Qat"] = _options.Qat ? "true" : "false",
        ["Trainer:Quantize:Qat:Epochs"] = _options.Qat ? Invariant(_options.QatEpochs) : null,
    };

    private async Task<(int, PipelineStageResult?)> QuantizeAsync(string folder, PipelineStageResult? input, CancellationToken cancellationToken)
    {
        var ptq = Path.Combine(folder, "ptq");
        var code = await RunStageAsync(TrainerCommands.Quantize, MethodSettings(input!.Record, ptq, QuantizeOptions.Ptq), cancellationToken);
        if (code != ExitCodes.Success)
        {
            return (code, null);
        }
        var outputs = new Dictionary<string, string>
        {
            ["ptq_int8"] = Path.Combine(ptq, ArtifactFiles.Int8Onnx),
            ["ptq_report"] = Path.Combine(ptq, ArtifactFiles.QuantizationReport),
        };
        if (!_options.Qat)
        {
            return (code, await ResultAsync(QuantizeStage, outputs["ptq_report"], outputs, cancellationToken));
        }

        var qat = Path.Combine(folder, "qat");
        var settings = MethodSettings(input.Record, qat, QuantizeOptions.Qat);
        settings["Trainer:Quantize:Qat:Epochs"] = Invariant(_options.QatEpochs);
        code = await RunStageAsync(TrainerCommands.Quantize, settings, cancellationToken);
        if (code != ExitCodes.Success)
        {
            return (code, null);
        }
        outputs["qat_int8"] = Path.Combine(qat, ArtifactFiles.Int8Onnx);
        outputs["qat_report"] = Path.Combine(qat, ArtifactFiles.QuantizationReport);
        // The QAT checkpoint (fp32 weights trained under fake quantization) names the pruned model as its parent.
        return (code, await ResultAsync(QuantizeStage, Path.Combine(qat, ArtifactFiles.RecordOf(ArtifactFiles.QatCheckpoint)), outputs, cancellationToken));
    }

    private static Dictionary<string, string?> MethodSettings(string checkpoint, string output, string method) => new()
    {
        ["Trainer:Quantize:Checkpoint"] = checkpoint,
        ["Trainer:Quantize:Output"] = output,
        ["Trainer:Quantize:Method"] = method,
    };

    /// <summary>
    /// The export of the pruned model with the int8 model (QAT's when run, else PTQ's) beside it; the unpruned student
    /// and the other int8 model are measured too, so the model card's charts show every variant of the chain.
    /// </summary>
    private Dictionary<string, string?> ExportSettings(PipelineStageResult student, PipelineStageResult pruned, PipelineStageResult quantized)
    {
        var outputs = quantized.Outputs;
        var int8 = outputs.GetValueOrDefault("qat_int8") ?? outputs["ptq_int8"];
        List<string> compare = [student.Record];
        if (outputs.ContainsKey("qat_int8"))
        {
            compare.Add(outputs["ptq_int8"]);
        }
        return new()
        {
            ["Trainer:Export:Checkpoint"] = pruned.Record,
            ["Trainer:Export:Dataset"] = _dataOptions.Dataset,
            ["Trainer:Export:Int8Model"] = int8,
            ["Trainer:Export:Compare"] = string.Join(",", compare),
            ["Trainer:Export:VariantPrefix"] = "pruned",
            ["Trainer:Export:Int8Label"] = outputs.ContainsKey("qat_int8") ? "int8 QAT" : "int8 PTQ",
            ["Trainer:Export:Iterations"] = Invariant(_options.Iterations),
        };
    }

    private async Task<(int, PipelineStageResult?)> ExportAsync(string folder, Dictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var code = await RunStageAsync(TrainerCommands.Export, new Dictionary<string, string?>(settings) { ["Trainer:Export:Output"] = folder }, cancellationToken);
        var record = Path.Combine(folder, ArtifactFiles.RecordOf(ArtifactFiles.ExportedCheckpoint));
        return code != ExitCodes.Success ? (code, null) : (code, await ResultAsync(ExportStage, record, new()
        {
            ["model"] = record,
            ["onnx"] = Path.Combine(folder, ArtifactFiles.Onnx),
            ["int8"] = Path.Combine(folder, ArtifactFiles.Int8Onnx),
            ["report"] = Path.Combine(folder, Export.ExportReport.FileName),
            ["model_card"] = Path.Combine(folder, Export.ModelCardWriter.FileName),
        }, cancellationToken));
    }

    private async Task<int> RunStageAsync(string command, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var code = await _stages.RunAsync(command, settings, cancellationToken);
        switch (code)
        {
            case ExitCodes.Success:
                return code;
            case ExitCodes.InvalidConfiguration:
                throw new InvalidInputException($"The {command} stage rejected its input (see its message above); settings: {string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"))}.");
            case ExitCodes.Interrupted:
                Logger.LogWarning("Interrupted in the {Command} stage; its progress is saved: run the pipeline again to continue", command);
                return code;
            default:
                Logger.LogError("The {Command} stage failed with exit code {Code}", command, code);
                return code;
        }
    }

    private static async Task<PipelineStageResult> ResultAsync(string stage, string record, Dictionary<string, string> outputs, CancellationToken cancellationToken) => new()
    {
        Stage = stage,
        Status = "done",
        Record = record,
        RecordSha256 = await PipelineManifest.Sha256Async(record, cancellationToken)
            ?? throw new InvalidOperationException($"The {stage} stage finished without writing {record}."),
        Outputs = outputs,
    };

    /// <summary>
    /// Checks the pipeline's own inputs before any stage runs or any folder is made: the dataset (its manifest and class
    /// names) and, when the distill stage is skipped, the student's checkpoint record, which is returned as that stage's result.
    /// </summary>
    /// <exception cref="InvalidInputException">An input is missing or unreadable (exit 2, naming it).</exception>
    internal static async Task<PipelineStageResult?> CheckInputsAsync(ObjectStoreFactory stores, PipelineOptions options, TrainingDataOptions data, CancellationToken cancellationToken = default)
    {
        IObjectStore dataset;
        try
        {
            dataset = stores.Open(data.Dataset);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"Trainer:Data:Dataset (--dataset) '{data.Dataset}': {e.Message}", e);
        }
        await DatasetFiles.ReadAsync(dataset, cancellationToken);
        if (!options.StartsFromCheckpoint)
        {
            return null;
        }

        var path = Path.GetFullPath(options.Checkpoint!);
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{PipelineOptions.SectionName}:Checkpoint (--checkpoint): checkpoint record '{options.Checkpoint}' does not exist.");
        }
        try
        {
            CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(path, cancellationToken));
        }
        catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new InvalidInputException($"{PipelineOptions.SectionName}:Checkpoint (--checkpoint): '{options.Checkpoint}' is not a checkpoint record: {e.Message}", e);
        }
        return new PipelineStageResult
        {
            Stage = DistillStage,
            Status = "given",
            Record = path,
            RecordSha256 = (await PipelineManifest.Sha256Async(path, cancellationToken))!,
            FinishedAt = DateTimeOffset.UtcNow,
        };
    }

    private static string Invariant<T>(T value)
        where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);
}
