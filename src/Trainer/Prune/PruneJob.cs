using System.Diagnostics;
using System.Globalization;
using KdData.Distillation;
using KdData.Evaluation;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Pruning;
using KdData.Records;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer prune</c>: iterative structured channel pruning with a KD fine-tune after every step. Step k of
/// N prunes the previous step's model (the input checkpoint for k = 1) until its MACs (or parameters) are at most
/// target^(k/N) of the input's (<see cref="ChannelPruner.SelectForCost"/>), writes the physically smaller model as
/// <c>step-k/start</c>, then fine-tunes it through the distill stage's data path and <see cref="TrainingLoop"/>
/// (cached soft targets from the Labeler's shards, Hinton KD and the curriculum) into <c>step-k/last</c>/<c>best</c>.
/// Every record names its parent (path and weights SHA-256). A rerun skips finished steps and resumes an interrupted
/// fine-tune; the final model is copied to <c>pruned.json</c>. A missing checkpoint, a family that cannot be pruned or
/// an unreachable target stops with exit 2 before any image is read.
/// </summary>
public sealed class PruneJob : JobService
{
    /// <summary>A step's cut model before its fine-tune: <c>step-k/start.json</c>, how a rerun resumes the step.</summary>
    private const string StartName = "start";

    private readonly ObjectStoreFactory _stores;
    private readonly PruneOptions _options;
    private readonly TrainingLoopOptions _loopOptions;
    private readonly DistillationDataSettings _data;
    private readonly TorchOptions _torchOptions;
    private readonly ILoggerFactory _loggerFactory;

    public PruneJob(
        ObjectStoreFactory stores,
        IOptions<PruneOptions> options,
        IOptions<TrainingLoopOptions> loopOptions,
        DistillationDataSettings data,
        IOptions<TorchOptions> torchOptions,
        IHostApplicationLifetime lifetime,
        JobOutcome outcome,
        ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<PruneJob>())
    {
        _stores = stores;
        _options = options.Value;
        _loopOptions = loopOptions.Value;
        _data = data;
        _torchOptions = torchOptions.Value;
        _loggerFactory = loggerFactory;
    }

    private string CostName => _options.TargetsParameters ? "parameters" : "MACs";

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var device = TorchDeviceSelector.Initialize(_torchOptions);
        var inputPath = Path.GetFullPath(_options.Checkpoint);
        using var input = await CheckpointInput.LoadAsync(inputPath, "--checkpoint", cancellationToken: stoppingToken);
        var spec = input.Record.Architecture;
        PruningLayout layout;
        try
        {
            layout = PruningLayouts.For(spec);
        }
        catch (NotSupportedException e)
        {
            throw new InvalidInputException($"Checkpoint '{inputPath}': {e.Message}.", e);
        }
        if (spec.InChannels != _data.Images.Channels)
        {
            throw new InvalidInputException($"Checkpoint '{inputPath}' takes {spec.InChannels}-channel images but Imaging:Channels is {_data.Images.Channels}.");
        }

        var fullCost = Cost(spec);
        var target = (long)Math.Floor(_options.Target * fullCost);
        var floor = Cost(layout.WithSizes([.. layout.Groups.Select(_ => 1)]));
        if (floor > target)
        {
            throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"Target {_options.Target} of the {CostName} of '{inputPath}' ({target} of {fullCost}) is out of range: even one channel per group costs {floor} ({(double)floor / fullCost:F3}); raise --target-{(_options.TargetsParameters ? "params" : "macs")}."));
        }
        Logger.LogInformation("Pruning {Checkpoint} ({Architecture}, {Cost} {CostName}) to {Target:P1} of its {CostName} in {Steps} steps (criterion {Criterion}, scope {Scope}), {Epochs} KD fine-tune epochs per step",
            inputPath, spec.Name, fullCost, CostName, _options.Target, CostName, _options.Steps, _options.CriterionValue, _options.ScopeValue, _loopOptions.Epochs);

        var objective = TrainingObjectives.Create(_data.ObjectiveOptions);
        var curriculum = new DistillationCurriculum(_data.ObjectiveOptions.Curriculum);
        var inputs = await DistillationInputs.LoadAsync(_stores, _data.InputOptions(objective, _loopOptions) with { EvalTeacher = _options.EvalTeacher },
            device, _loggerFactory, stoppingToken);
        if (input.Record.Classes.Count > 0 && !input.Record.Classes.SequenceEqual(inputs.Classes, StringComparer.Ordinal))
        {
            throw new InvalidInputException($"Checkpoint '{inputPath}' has classes [{string.Join(", ", input.Record.Classes)}] but the dataset has [{string.Join(", ", inputs.Classes)}].");
        }

        var clock = Stopwatch.StartNew();
        var output = Path.GetFullPath(_options.Output);
        var parentPath = inputPath;
        var parent = input.Record;
        for (var step = 1; step <= _options.Steps; step++)
        {
            var stepTarget = (long)Math.Floor(Math.Pow(_options.Target, (double)step / _options.Steps) * fullCost);
            var directory = Path.Combine(output, string.Create(CultureInfo.InvariantCulture, $"step-{step}"));
            using var start = await StartStepAsync(step, directory, parentPath, parent, stepTarget, fullCost, inputs, stoppingToken);

            var startPath = Path.Combine(directory, StartName + CheckpointSerializer.RecordExtension);
            var lineage = Lineages.PruneFineTune(inputs.Lineage, startPath, start.Record);
            var progress = TrainingProgressLog.Create(Logger);
            var loop = new TrainingLoop(_loopOptions, objective, device, progress, _loggerFactory.CreateLogger<TrainingLoop>(), PruneOptions.SectionName);
            var result = await loop.RunAsync(
                new TrainingSetup
                {
                    Architecture = start.Record.Architecture,
                    Train = inputs.Train,
                    Eval = inputs.Eval,
                    OutputDirectory = directory,
                    Classes = inputs.Classes,
                    Preprocessing = inputs.Preprocessing,
                    Schedule = curriculum.At,
                    Lineage = lineage,
                },
                start.Model,
                stoppingToken);
            progress.EndLine();
            if (result.Interrupted)
            {
                Logger.LogWarning("Interrupted in the fine-tune of step {Step}; progress saved in {Output}. Run again to continue.", step, directory);
                return ExitCodes.Interrupted;
            }
            parentPath = result.LastCheckpointPath!;
            parent = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(parentPath, stoppingToken));
            Logger.LogInformation("Step {Step}/{Steps}: {Cost} {CostName} ({Share:P1} of the input), eval accuracy {Accuracy:F4} after {Epochs} fine-tune epochs",
                step, _options.Steps, Cost(parent.Architecture), CostName, (double)Cost(parent.Architecture) / fullCost,
                parent.Metrics.GetValueOrDefault("eval_accuracy", double.NaN), result.EpochsCompleted);
        }

        using (var final = await CheckpointInput.LoadAsync(parentPath, "the last step", cancellationToken: stoppingToken))
        {
            var finalPath = await CheckpointSerializer.SaveAsync(final.Model, final.Record, output, ArtifactFiles.PrunedCheckpoint, stoppingToken);
            Logger.LogInformation("Pruned model {Path}: {Cost} {CostName} ({Share:P1} of {Input}), channels [{Channels}], eval accuracy {Accuracy:F4}; {Seconds:F1} s",
                finalPath, Cost(final.Record.Architecture), CostName, (double)Cost(final.Record.Architecture) / fullCost, inputPath,
                string.Join(",", final.Record.Architecture.Channels ?? []), final.Record.Metrics.GetValueOrDefault("eval_accuracy", double.NaN), clock.Elapsed.TotalSeconds);
        }
        return ExitCodes.Success;
    }

    /// <summary>The pruned, not yet fine-tuned model of a step: read back when a previous run wrote it, else pruned from the parent.</summary>
    private async Task<Checkpoint> StartStepAsync(int step, string directory, string parentPath, CheckpointRecord parent, long target, long fullCost,
        DistillationInputs inputs, CancellationToken cancellationToken)
    {
        var startPath = Path.Combine(directory, StartName + CheckpointSerializer.RecordExtension);
        if (File.Exists(startPath))
        {
            var existing = await CheckpointInput.LoadAsync(startPath, "a previous run's step", cancellationToken: cancellationToken);
            var recorded = existing.Record.Training.Lineage?.ParentSha256;
            if (!string.Equals(recorded, parent.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            {
                existing.Dispose();
                throw new InvalidInputException($"'{startPath}' was pruned from another model than '{parentPath}'; use another --output to start a new run.");
            }
            Logger.LogInformation("Step {Step}: resuming with the pruned model in {Path}", step, startPath);
            return existing;
        }

        using var source = await CheckpointInput.LoadAsync(parentPath, "the previous step", cancellationToken: cancellationToken);
        var layout = PruningLayouts.For(parent.Architecture);
        var scores = ChannelPruner.Score(source.Model, layout, _options.CriterionValue);
        var (ratio, keep) = ChannelPruner.SelectForCost(layout, scores, _options.ScopeValue, Cost, target);
        var (model, spec) = ChannelPruner.Rebuild(source.Model, layout, keep);
        var before = Cost(parent.Architecture);
        var after = Cost(spec);
        // The accuracy right after the cut, before any fine-tune: what the KD fine-tune has to win back.
        var accuracy = (await new Evaluator().RunAsync(model, inputs.Eval, cancellationToken)).ComputeMetrics().Accuracy;
        var lineage = new LineageRecord
        {
            Stage = Lineages.PruneStage,
            Step = step,
            Steps = _options.Steps,
            Parent = new ParentCheckpoint { Path = parentPath },
            ParentSha256 = parent.WeightsSha256,
            Criterion = _options.CriterionValue.ToString().ToLowerInvariant(),
            Scope = _options.ScopeValue.ToString().ToLowerInvariant(),
            Target = _options.TargetsParameters ? "parameters" : "macs",
            TargetShare = _options.Target,
            StepTarget = target,
            InputCost = fullCost,
            CostBefore = before,
            CostAfter = after,
            Ratio = ratio,
            ChannelsBefore = [.. layout.Groups.Select(g => g.Size)],
            ChannelsAfter = [.. keep.Select(k => k.Length)],
        };
        var record = new CheckpointRecord
        {
            Architecture = spec,
            Classes = inputs.Classes,
            Preprocessing = inputs.Preprocessing,
            Training = new TrainingRecord { Stage = Lineages.PruneStage, Lineage = lineage },
            Metrics = new Dictionary<string, double> { ["eval_accuracy"] = accuracy },
        };
        try
        {
            var written = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(
                await CheckpointSerializer.SaveAsync(model, record, directory, StartName, cancellationToken), cancellationToken));
            Logger.LogInformation("Step {Step}: removed {Ratio:P1} of the channels ({Criterion}, {Scope}); {Before} -> {After} {CostName} (step target {Target}); widths [{Channels}]; eval accuracy before fine-tuning {Accuracy:F4}",
                step, ratio, _options.CriterionValue, _options.ScopeValue, before, after, CostName, target, string.Join(",", spec.Channels ?? []), accuracy);
            return new Checkpoint(model, written);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private long Cost(ModelSpec spec)
    {
        using var model = ModelZoo.Create(spec);
        return _options.TargetsParameters
            ? ModelComplexity.Parameters(model)
            : ModelComplexity.Macs(model, _data.Images.Channels, _data.Images.OutputSize, _data.Images.OutputSize);
    }

}
