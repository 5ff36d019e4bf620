using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// Supervised classification training (the Trainer's <c>teacher</c> stage): cross-entropy with label smoothing,
/// AdamW or Nesterov SGD, <see cref="CosineWarmupSchedule"/> applied every step, evaluation after every epoch.
/// Writes into the job's output directory, per epoch and in this order: a line of <c>metrics.jsonl</c>, the
/// <c>last</c> checkpoint (weights, optimizer state, record), and the <c>best</c> checkpoint when the evaluation
/// accuracy improved. Every file is replaced atomically.
/// <para>
/// Resume: when the output directory holds a <c>last</c> checkpoint, the run loads its weights and optimizer
/// state and continues with the next epoch (same numbering); metrics lines of epochs the checkpoint does not
/// cover are dropped, so <c>metrics.jsonl</c> ends up with exactly one line per epoch.
/// </para>
/// <para>
/// Cancellation: the loop finishes the current step, saves the weights and optimizer state as <c>last</c> with
/// the epoch marked incomplete (no metrics line), and returns <see cref="TrainingResult.Interrupted"/>. A resume
/// restarts that epoch from those weights, so the samples seen before the interruption are seen again. The
/// end-of-epoch evaluation and checkpoint writes are not cancelled (they are short and must not be torn).
/// </para>
/// </summary>
public sealed class SupervisedTrainer
{
    /// <summary>Name of the per-epoch metrics file in the output directory.</summary>
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>Checkpoint name of the latest state (resume point).</summary>
    public const string LastCheckpointName = "last";

    /// <summary>Checkpoint name of the epoch with the highest evaluation accuracy.</summary>
    public const string BestCheckpointName = "best";

    private const string OptimizerFilePrefix = LastCheckpointName + ".optimizer.";
    private const string OptimizerFileSuffix = ".bin";

    private static readonly JsonSerializerOptions OptionsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly TeacherTrainingOptions _options;
    private readonly Device _device;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly ILogger _logger;

    /// <param name="options">Validated here as well as by the host.</param>
    /// <param name="device">Device to train on; default CPU.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch; called synchronously on the training thread.</param>
    /// <param name="logger">Logs resume and interruption; default none.</param>
    /// <exception cref="ValidationException">The options are invalid.</exception>
    public SupervisedTrainer(TeacherTrainingOptions options, Device? device = null, IProgress<TrainingProgress>? progress = null, ILogger<SupervisedTrainer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _options = options;
        _device = device ?? CPU;
        _progress = progress;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Builds the model with <see cref="ModelZoo.Create"/> (weights seeded with <see cref="TeacherTrainingOptions.Seed"/>)
    /// and trains it, resuming from the output directory when it holds a <c>last</c> checkpoint.
    /// </summary>
    public async Task<TrainingResult> RunAsync(TrainingJob job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        manual_seed(_options.Seed);
        using var model = ModelZoo.Create(job.Architecture, _device);
        return await RunAsync(job, model, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Trains an existing model (e.g. pretrained weights to fine-tune) whose architecture is
    /// <see cref="TrainingJob.Architecture"/>; the caller keeps ownership. On resume its weights are replaced by
    /// the <c>last</c> checkpoint's.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad batches, or a <c>last</c> checkpoint that cannot be resumed from.</exception>
    public async Task<TrainingResult> RunAsync(TrainingJob job, nn.Module<Tensor, Tensor> model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job.Architecture);
        ArgumentNullException.ThrowIfNull(job.Train);
        ArgumentNullException.ThrowIfNull(job.Eval);
        ArgumentException.ThrowIfNullOrWhiteSpace(job.OutputDirectory);
        _logger.LogInformation("Model {Architecture}: {Parameters} parameters", job.Architecture.Name, ModelZoo.CountParameters(model));
        var batchesPerEpoch = job.Train.BatchesPerEpoch;
        if (batchesPerEpoch < 1)
        {
            throw new ArgumentException($"The training data reports {batchesPerEpoch} batches per epoch; at least one is needed.", nameof(job));
        }

        var directory = Path.GetFullPath(job.OutputDirectory);
        Directory.CreateDirectory(directory);
        var metricsPath = Path.Combine(directory, MetricsFileName);
        var lastPath = RecordPath(directory, LastCheckpointName);
        var bestPath = RecordPath(directory, BestCheckpointName);

        model.to(_device);
        using var optimizer = CreateOptimizer(model);
        var state = await ResumeAsync(job, model, optimizer, directory, cancellationToken).ConfigureAwait(false);
        // The checkpoint is the truth; metrics lines past it come from an epoch that will be trained again.
        await MetricsLog.TruncateAfterAsync(metricsPath, state.EpochsCompleted, cancellationToken).ConfigureAwait(false);

        var schedule = new CosineWarmupSchedule(
            _options.EffectiveLearningRate,
            _options.MinLearningRate,
            _options.WarmupSteps ?? (long)Math.Round(_options.WarmupEpochs * batchesPerEpoch),
            (long)_options.Epochs * batchesPerEpoch);

        var interrupted = false;
        for (var epoch = state.EpochsCompleted + 1; epoch <= _options.Epochs; epoch++)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }
            var clock = Stopwatch.StartNew();
            // Reseeding per epoch makes the epoch's random draws (dropout, ...) independent of how the run got here.
            manual_seed(unchecked(_options.Seed + epoch));
            var train = await TrainEpochAsync(job, model, optimizer, schedule, epoch, batchesPerEpoch, cancellationToken).ConfigureAwait(false);
            if (train.Interrupted)
            {
                interrupted = true;
                if (train.Steps > 0)
                {
                    state = await SaveLastAsync(job, model, optimizer, directory,
                        state with { Epoch = epoch, EpochComplete = false, StepsInEpoch = train.Steps },
                        new Dictionary<string, double>()).ConfigureAwait(false);
                }
                _logger.LogInformation("Training interrupted in epoch {Epoch} after {Steps} steps; resume restarts the epoch.", epoch, train.Steps);
                break;
            }
            if (train.Samples == 0)
            {
                throw new InvalidDataException($"The training data yielded no samples in epoch {epoch}.");
            }

            var eval = await EvaluateAsync(job, model, epoch).ConfigureAwait(false);
            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                TrainLoss = train.LossSum / train.Samples,
                TrainAccuracy = (double)train.Correct / train.Samples,
                EvalLoss = eval.LossSum / eval.Samples,
                EvalAccuracy = (double)eval.Correct / eval.Samples,
                LearningRate = train.LastLearningRate,
                Seconds = clock.Elapsed.TotalSeconds,
                ImagesPerSecond = train.Samples / Math.Max(train.Seconds, 1e-9),
            };
            var improved = state.BestEpoch == 0 || metrics.EvalAccuracy > state.BestEvalAccuracy;
            var completed = state with
            {
                Epoch = epoch,
                EpochComplete = true,
                StepsInEpoch = train.Steps,
                BestEpoch = improved ? epoch : state.BestEpoch,
                BestEvalAccuracy = improved ? metrics.EvalAccuracy : state.BestEvalAccuracy,
            };
            var recordMetrics = RecordMetrics(metrics);

            // Order matters for crash consistency, see the class remarks and ResumeAsync.
            await MetricsLog.AppendAsync(metricsPath, metrics, CancellationToken.None).ConfigureAwait(false);
            state = await SaveLastAsync(job, model, optimizer, directory, completed, recordMetrics).ConfigureAwait(false);
            if (improved)
            {
                await SaveCheckpointAsync(model, Record(job, state, recordMetrics), directory, BestCheckpointName).ConfigureAwait(false);
            }
            _progress?.Report(new TrainingProgress
            {
                Epoch = epoch,
                Epochs = _options.Epochs,
                Step = train.Steps,
                StepsPerEpoch = batchesPerEpoch,
                GlobalStep = ((long)(epoch - 1) * batchesPerEpoch) + train.Steps,
                Loss = metrics.TrainLoss,
                LearningRate = train.LastLearningRate,
                ImagesPerSecond = metrics.ImagesPerSecond,
                CompletedEpoch = metrics,
            });
        }

        return new TrainingResult
        {
            EpochsCompleted = state.EpochsCompleted,
            BestEvalAccuracy = state.BestEpoch > 0 ? state.BestEvalAccuracy : double.NaN,
            BestEpoch = state.BestEpoch,
            Interrupted = interrupted,
            LastCheckpointPath = File.Exists(lastPath) ? lastPath : null,
            BestCheckpointPath = File.Exists(bestPath) ? bestPath : null,
            MetricsPath = metricsPath,
        };
    }

    /// <summary>The training objective: mean cross-entropy of <paramref name="logits"/> (N, K) against class indices with label smoothing.</summary>
    internal static Tensor Loss(Tensor logits, Tensor labels, double labelSmoothing) =>
        nn.functional.cross_entropy(logits, labels, label_smoothing: labelSmoothing);

    private OptimizerHelper CreateOptimizer(nn.Module model)
    {
        var lr = _options.EffectiveLearningRate;
        if (string.Equals(_options.Optimizer, TeacherTrainingOptions.Sgd, StringComparison.Ordinal))
        {
            return optim.SGD(model.parameters(), lr, momentum: _options.Momentum, weight_decay: _options.WeightDecay,
                nesterov: _options.Momentum > 0);
        }
        return optim.AdamW(model.parameters(), lr, weight_decay: _options.WeightDecay);
    }

    private async Task<EpochTotals> TrainEpochAsync(TrainingJob job, nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer,
        CosineWarmupSchedule schedule, int epoch, int batchesPerEpoch, CancellationToken cancellationToken)
    {
        model.train();
        var totals = new EpochTotals();
        var clock = Stopwatch.StartNew();
        var enumerator = job.Train.ReadEpochAsync(epoch, cancellationToken).GetAsyncEnumerator(cancellationToken);
        await using (enumerator.ConfigureAwait(false))
        {
            while (true)
            {
                bool next;
                try
                {
                    next = await enumerator.MoveNextAsync().ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    totals.Interrupted = true;
                    break;
                }
                if (!next)
                {
                    break;
                }

                var batch = enumerator.Current;
                CheckBatch(batch, job.Architecture, "training", epoch);
                var scheduleStep = ((long)(epoch - 1) * batchesPerEpoch) + totals.Steps;
                var lr = schedule.At(scheduleStep);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                var (loss, correct) = TrainStep(model, optimizer, batch);
                totals.Steps++;
                totals.Samples += batch.Count;
                totals.LossSum += loss * batch.Count;
                totals.Correct += correct;
                totals.LastLearningRate = lr;
                totals.Seconds = clock.Elapsed.TotalSeconds;
                _progress?.Report(new TrainingProgress
                {
                    Epoch = epoch,
                    Epochs = _options.Epochs,
                    Step = totals.Steps,
                    StepsPerEpoch = batchesPerEpoch,
                    GlobalStep = scheduleStep + 1,
                    Loss = loss,
                    LearningRate = lr,
                    ImagesPerSecond = totals.Samples / Math.Max(totals.Seconds, 1e-9),
                });
                if (cancellationToken.IsCancellationRequested)
                {
                    // After the epoch's last expected step the epoch is as good as complete: let it be evaluated
                    // and saved rather than redone on resume.
                    totals.Interrupted = totals.Steps < batchesPerEpoch;
                    break;
                }
            }
        }
        return totals;
    }

    // Synchronous on purpose: the dispose scope must not span an await (scopes are per thread).
    private (double Loss, long Correct) TrainStep(nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer, LabeledBatch batch)
    {
        using var scope = NewDisposeScope();
        var (x, y) = ToTensors(batch);
        optimizer.zero_grad();
        var logits = model.call(x);
        var loss = Loss(logits, y, _options.LabelSmoothing);
        loss.backward();
        optimizer.step();
        var correct = logits.argmax(1).eq(y).sum().item<long>();
        return (loss.item<float>(), correct);
    }

    private async Task<EpochTotals> EvaluateAsync(TrainingJob job, nn.Module<Tensor, Tensor> model, int epoch)
    {
        model.eval();
        var totals = new EpochTotals();
        try
        {
            // Not cancelled: an epoch whose training finished is worth its evaluation and checkpoint.
            await foreach (var batch in job.Eval.ReadEpochAsync(epoch, CancellationToken.None).ConfigureAwait(false))
            {
                CheckBatch(batch, job.Architecture, "evaluation", epoch);
                var (lossSum, correct) = EvalStep(model, batch);
                totals.Steps++;
                totals.Samples += batch.Count;
                totals.LossSum += lossSum;
                totals.Correct += correct;
            }
        }
        finally
        {
            model.train();
        }
        if (totals.Samples == 0)
        {
            throw new InvalidDataException($"The evaluation data yielded no samples after epoch {epoch}.");
        }
        return totals;
    }

    // Synchronous for the same reason as TrainStep; no_grad is per thread as well.
    private (double LossSum, long Correct) EvalStep(nn.Module<Tensor, Tensor> model, LabeledBatch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, y) = ToTensors(batch);
        var logits = model.call(x);
        var lossSum = nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
        var correct = logits.argmax(1).eq(y).sum().item<long>();
        return (lossSum, correct);
    }

    private (Tensor X, Tensor Y) ToTensors(LabeledBatch batch)
    {
        var x = tensor(batch.Pixels, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        var y = tensor(batch.Labels);
        if (_device.type != DeviceType.CPU)
        {
            x = x.to(_device);
            y = y.to(_device);
        }
        return (x, y);
    }

    private static void CheckBatch(LabeledBatch batch, ModelSpec architecture, string source, int epoch)
    {
        if (batch.Channels != architecture.InChannels)
        {
            throw new InvalidDataException(
                $"A {source} batch of epoch {epoch} has {batch.Channels} channels but the model '{architecture.Name}' takes {architecture.InChannels}.");
        }
        foreach (var label in batch.Labels)
        {
            if (label < 0 || label >= architecture.NumClasses)
            {
                throw new InvalidDataException(
                    $"A {source} batch of epoch {epoch} has label {label}, outside [0, {architecture.NumClasses}) for the model's {architecture.NumClasses} classes.");
            }
        }
    }

    private async Task<TrainerState> ResumeAsync(TrainingJob job, nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer,
        string directory, CancellationToken cancellationToken)
    {
        var lastPath = RecordPath(directory, LastCheckpointName);
        if (!File.Exists(lastPath))
        {
            return new TrainerState { Epoch = 0, EpochComplete = true };
        }

        using var checkpoint = await CheckpointSerializer.LoadAsync(lastPath, cancellationToken: cancellationToken).ConfigureAwait(false);
        var record = checkpoint.Record;
        if (record.Architecture != job.Architecture)
        {
            throw new InvalidDataException(
                $"Checkpoint '{lastPath}' is for architecture {record.Architecture} but the job trains {job.Architecture}; use another output directory to start a new run.");
        }
        var savedOptimizer = record.Training["options"]?["optimizer"]?.GetValue<string>();
        if (!string.Equals(savedOptimizer, _options.Optimizer, StringComparison.Ordinal))
        {
            throw new InvalidDataException(
                $"Checkpoint '{lastPath}' was trained with optimizer '{savedOptimizer}' but Trainer:Teacher:Optimizer is '{_options.Optimizer}'; its optimizer state cannot be resumed.");
        }
        var state = TrainerState.ReadFrom(record.Training, lastPath);
        CopyWeights(checkpoint.Model, model, lastPath);
        await LoadOptimizerAsync(optimizer, directory, state, lastPath, cancellationToken).ConfigureAwait(false);

        // 'best' is written after 'last'; a crash in between leaves an older best. When the best epoch is the
        // last completed one, best and last hold the same weights, so best can be restored from last.
        var bestPath = RecordPath(directory, BestCheckpointName);
        if (state.BestEpoch > 0 && state.BestEpoch == state.Epoch && state.EpochComplete && BestEpochOnDisk(bestPath) != state.BestEpoch)
        {
            await SaveCheckpointAsync(model, Record(job, state, record.Metrics), directory, BestCheckpointName).ConfigureAwait(false);
        }
        _logger.LogInformation("Resuming from '{Checkpoint}': epoch {Epoch} ({Status}); continuing with epoch {Next}.",
            lastPath, state.Epoch, state.EpochComplete ? "complete" : "interrupted", state.EpochsCompleted + 1);
        return state;
    }

    private static void CopyWeights(nn.Module source, nn.Module target, string lastPath)
    {
        var from = source.state_dict();
        var to = target.state_dict();
        if (from.Count != to.Count || to.Keys.Any(k => !from.ContainsKey(k)))
        {
            throw new InvalidDataException($"The weights of checkpoint '{lastPath}' do not match the model's parameter names.");
        }
        using var noGrad = no_grad();
        foreach (var (name, tensor) in to)
        {
            tensor.copy_(from[name]);
        }
    }

    private static async Task LoadOptimizerAsync(OptimizerHelper optimizer, string directory, TrainerState state, string lastPath,
        CancellationToken cancellationToken)
    {
        if (state.OptimizerStateFile is null)
        {
            throw new InvalidDataException($"Checkpoint record '{lastPath}' names no optimizer state; it cannot be resumed from.");
        }
        var path = Path.Combine(directory, Path.GetFileName(state.OptimizerStateFile));
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"Optimizer state '{path}' named by checkpoint record '{lastPath}' does not exist.");
        }
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(Sha256Hex(bytes), state.OptimizerSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Optimizer state '{path}' does not match the SHA-256 in checkpoint record '{lastPath}'.");
        }
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        optimizer.load_state_dict(reader);
    }

    private static int BestEpochOnDisk(string bestPath)
    {
        if (!File.Exists(bestPath))
        {
            return 0;
        }
        try
        {
            var record = CheckpointSerializer.ParseRecord(File.ReadAllBytes(bestPath));
            return record.Training["epoch"]?.GetValue<int>() ?? 0;
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException or FormatException)
        {
            return 0;
        }
    }

    private async Task<TrainerState> SaveLastAsync(TrainingJob job, nn.Module model, OptimizerHelper optimizer, string directory,
        TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        // The optimizer state gets a fresh name each time, so the file named by the current record is never
        // overwritten: until the new record lands, the old record and everything it names stay intact.
        byte[] optimizerBytes;
        using (var buffer = new MemoryStream())
        {
            using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                optimizer.save_state_dict(writer);
            }
            optimizerBytes = buffer.ToArray();
        }
        var optimizerFile = OptimizerFilePrefix + Guid.NewGuid().ToString("N") + OptimizerFileSuffix;
        await AtomicFile.WriteAllBytesAsync(Path.Combine(directory, optimizerFile), optimizerBytes).ConfigureAwait(false);

        var saved = state with { OptimizerStateFile = optimizerFile, OptimizerSha256 = Sha256Hex(optimizerBytes) };
        await SaveCheckpointAsync(model, Record(job, saved, metrics), directory, LastCheckpointName).ConfigureAwait(false);

        foreach (var stale in Directory.EnumerateFiles(directory, OptimizerFilePrefix + "*" + OptimizerFileSuffix))
        {
            if (!string.Equals(Path.GetFileName(stale), optimizerFile, StringComparison.Ordinal))
            {
                File.Delete(stale);
            }
        }
        return saved;
    }

    /// <summary>
    /// Like <see cref="CheckpointSerializer.SaveAsync"/> but each file is replaced atomically: weights first,
    /// then the record (which carries the weights' SHA-256, so a record never names weights it does not match
    /// except in the instant between the two renames, which a load detects).
    /// </summary>
    private static async Task SaveCheckpointAsync(nn.Module model, CheckpointRecord record, string directory, string name)
    {
        var encoded = CheckpointSerializer.Encode(model, record);
        var recordPath = RecordPath(directory, name);
        await AtomicFile.WriteAllBytesAsync(CheckpointSerializer.WeightsPathFor(recordPath, encoded.Record.WeightsFormat), encoded.Weights).ConfigureAwait(false);
        await AtomicFile.WriteAllBytesAsync(recordPath, encoded.RecordJson).ConfigureAwait(false);
    }

    private CheckpointRecord Record(TrainingJob job, TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        var training = new JsonObject { ["options"] = JsonSerializer.SerializeToNode(_options, OptionsJson) };
        state.WriteTo(training);
        return new CheckpointRecord
        {
            Architecture = job.Architecture,
            Classes = job.Classes,
            Preprocessing = job.Preprocessing,
            Training = training,
            Metrics = metrics,
        };
    }

    private static Dictionary<string, double> RecordMetrics(EpochMetrics metrics) => new()
    {
        ["train_loss"] = metrics.TrainLoss,
        ["train_accuracy"] = metrics.TrainAccuracy,
        ["eval_loss"] = metrics.EvalLoss,
        ["eval_accuracy"] = metrics.EvalAccuracy,
    };

    private static string RecordPath(string directory, string name) => Path.Combine(directory, name + CheckpointSerializer.RecordExtension);

    private static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private sealed class EpochTotals
    {
        public int Steps { get; set; }

        public long Samples { get; set; }

        public double LossSum { get; set; }

        public long Correct { get; set; }

        public double LastLearningRate { get; set; }

        public double Seconds { get; set; }

        public bool Interrupted { get; set; }
    }
}
