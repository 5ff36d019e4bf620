using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Security.Cryptography;
using KdData.Augmentation;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using KdData.Torch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// The one training loop every stage shares (teacher, distill, later fine-tune after pruning and QAT): steps,
/// <see cref="CosineWarmupSchedule"/> applied every step, AdamW or Nesterov SGD (no weight decay on biases and
/// normalisation weights), evaluation after every epoch, checkpoints, resume, metrics and cancellation. What a step
/// minimises is the pluggable <see cref="ITrainingObjective"/>; the objective's temperature and alpha per epoch
/// come from <see cref="TrainingSetup.Schedule"/> (the distillation curriculum).
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
/// the epoch marked incomplete after <c>S</c> steps (no metrics line), and returns
/// <see cref="TrainingResult.Interrupted"/>. A resume replays that epoch's batch order (sources are deterministic
/// per epoch), skips its first <c>S</c> batches and continues, and the torch generator is reseeded per step, so an
/// interrupted run ends with the same weights as an uninterrupted one (on CPU). The end-of-epoch evaluation and
/// checkpoint writes are not cancelled (they are short and must not be torn); the metrics of a resumed epoch cover
/// the steps after the resume.
/// </para>
/// </summary>
public sealed class TrainingLoop
{
    /// <summary>Name of the per-epoch metrics file in the output directory.</summary>
    public const string MetricsFileName = "metrics.jsonl";

    /// <summary>Checkpoint name of the latest state (resume point).</summary>
    public const string LastCheckpointName = "last";

    /// <summary>Checkpoint name of the epoch with the highest evaluation accuracy.</summary>
    public const string BestCheckpointName = "best";

    private const string OptimizerFilePrefix = LastCheckpointName + ".optimizer.";
    private const string OptimizerFileSuffix = ".bin";

    /// <summary>Suffix of the file beside a checkpoint holding the representation terms' trained parts.</summary>
    public const string RepresentationFileSuffix = ".representation.bin";

    private readonly TrainingLoopOptions _options;
    private readonly string _section;
    private readonly ITrainingObjective _objective;
    private readonly Device _device;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly ILogger _logger;
    private ModelCostRecord _complexity = new();

    /// <param name="options">Validated here as well as by the host.</param>
    /// <param name="objective">What each step minimises.</param>
    /// <param name="device">Device to train on; default CPU.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch; called synchronously on the training thread.</param>
    /// <param name="logger">Logs resume and interruption; default none.</param>
    /// <param name="section">The configuration section <paramref name="options"/> were bound from, for messages naming a
    /// setting (e.g. <c>Trainer:Distill</c>). Default <see cref="TrainingLoopOptions.SectionName"/>.</param>
    /// <exception cref="ValidationException">The options are invalid.</exception>
    public TrainingLoop(TrainingLoopOptions options, ITrainingObjective objective, Device? device = null, IProgress<TrainingProgress>? progress = null, ILogger<TrainingLoop>? logger = null,
        string section = TrainingLoopOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(objective);
        _objective = objective;
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _options = options;
        _section = section;
        _device = device ?? CPU;
        _progress = progress;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Builds the model with <see cref="ModelZoo.Create"/> (weights seeded with <see cref="TrainingLoopOptions.Seed"/>)
    /// and trains it, resuming from the output directory when it holds a <c>last</c> checkpoint.
    /// </summary>
    public async Task<TrainingResult> RunAsync(TrainingSetup job, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        manual_seed(_options.Seed);
        using var model = ModelZoo.Create(job.Architecture, _device);
        return await RunAsync(job, model, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Trains an existing model (e.g. pretrained weights to fine-tune) whose architecture is
    /// <see cref="TrainingSetup.Architecture"/>; the caller keeps ownership. On resume its weights are replaced by
    /// the <c>last</c> checkpoint's.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad batches, or a <c>last</c> checkpoint whose files are damaged.</exception>
    /// <exception cref="InvalidInputException">
    /// The output directory holds a <c>last</c> checkpoint of another run (another architecture, optimizer or set of
    /// representation terms): use another output directory or the settings it was trained with.
    /// </exception>
    public async Task<TrainingResult> RunAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job.Architecture);
        ArgumentNullException.ThrowIfNull(job.Train);
        ArgumentNullException.ThrowIfNull(job.Eval);
        ArgumentException.ThrowIfNullOrWhiteSpace(job.OutputDirectory);
        var parameters = ModelComplexity.Parameters(model);
        long? macs = job.Preprocessing is { } pre ? ModelComplexity.Macs(model, job.Architecture.InChannels, pre.Height, pre.Width) : null;
        _complexity = new ModelCostRecord { Parameters = parameters, Macs = macs };
        _logger.LogInformation("Model {Architecture}: {Parameters} parameters, {Macs} MACs per image; objective {Objective}", job.Architecture.Name, parameters, macs, _objective.Name);
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
        job.Representation?.to(_device);
        using var optimizer = CreateOptimizer(model, job.Representation);
        // After model.to: the counter finds the BatchNorm modules, whose buffers to() may have replaced.
        using var batchNormCounter = new BatchNormStepCounter(model);
        var state = await ResumeAsync(job, model, optimizer, directory, cancellationToken).ConfigureAwait(false);
        using var oneDnn = OneDnnScope.Enter(TorchRuntime.Policy, () => OneDnnChecks(job, model), _logger);
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
            // An epoch interrupted after S steps continues at step S + 1 (its batch order is replayed).
            var skip = !state.EpochComplete && state.Epoch == epoch ? state.StepsInEpoch : 0;
            var objectiveSchedule = job.Schedule?.Invoke(epoch, _options.Epochs) ?? ObjectiveSchedule.Supervised;
            var train = await TrainEpochAsync(job, model, batchNormCounter, optimizer, schedule, objectiveSchedule, epoch, batchesPerEpoch, skip, cancellationToken).ConfigureAwait(false);
            if (train.Interrupted)
            {
                interrupted = true;
                if (train.Steps > skip)
                {
                    state = await SaveLastAsync(job, model, optimizer, directory,
                        state with { Epoch = epoch, EpochComplete = false, StepsInEpoch = train.Steps },
                        new Dictionary<string, double>()).ConfigureAwait(false);
                }
                _logger.LogInformation("Training interrupted in epoch {Epoch} after {Steps} steps; a resume continues from there.", epoch, train.Steps);
                break;
            }
            if (train.Samples == 0 && skip == 0)
            {
                throw new InvalidDataException($"The training data yielded no samples in epoch {epoch}.");
            }

            var eval = await EvaluateAsync(job, model, epoch).ConfigureAwait(false);
            var metrics = new EpochMetrics
            {
                Epoch = epoch,
                TrainLoss = train.LossSum / Math.Max(train.Samples, 1),
                TrainAccuracy = train.LabeledSamples > 0 ? (double)train.Correct / train.LabeledSamples : double.NaN,
                EvalLoss = eval.LossSum / eval.Samples,
                EvalAccuracy = (double)eval.Correct / eval.Samples,
                LearningRate = train.LastLearningRate,
                Seconds = clock.Elapsed.TotalSeconds,
                ImagesPerSecond = train.Samples / Math.Max(train.Seconds, 1e-9),
                CrossEntropy = train.CrossEntropySteps > 0 ? train.CrossEntropySum / train.CrossEntropySteps : null,
                Distillation = train.DistillationSteps > 0 ? train.DistillationSum / train.DistillationSteps : null,
                Representation = train.RepresentationSteps > 0 ? train.RepresentationSum / train.RepresentationSteps : null,
                RepresentationTerms = train.RepresentationSteps > 0
                    ? train.RepresentationTermSums.ToDictionary(t => t.Key, t => t.Value / train.RepresentationSteps, StringComparer.Ordinal)
                    : null,
                TeacherKl = eval.TeacherSamples > 0 ? eval.TeacherKlSum / eval.TeacherSamples : null,
                Agreement = eval.TeacherSamples > 0 ? (double)eval.Agreements / eval.TeacherSamples : null,
                Temperature = _objective.NeedsTeacher ? objectiveSchedule.Temperature : null,
                Alpha = _objective.NeedsTeacher ? objectiveSchedule.Alpha : null,
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
                await SaveCheckpointAsync(job, model, Record(job, state, recordMetrics), directory, BestCheckpointName).ConfigureAwait(false);
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

    /// <summary>
    /// The self-tests <see cref="OneDnnScope"/> runs under <c>Torch:OneDnn=auto</c>: the student with gradients and the
    /// online teacher's outputs, at batch 1 and 5 (where wrong kernels were seen), the training batch size and 256
    /// (evaluation). A run with representation terms is not tested: their connectors would run unchecked, so it stays
    /// on ATen's kernels, as does a run whose input size is unknown.
    /// </summary>
    private IEnumerable<OneDnnCheck> OneDnnChecks(TrainingSetup job, nn.Module<Tensor, Tensor> model)
    {
        if (job.Preprocessing is not { } pre || job.Representation is not null || _device.type != DeviceType.CPU)
        {
            yield return new OneDnnCheck
            {
                Model = job.Architecture.Name,
                Agrees = false,
                WorstRelativeError = double.NaN,
                BatchSizes = [],
                Worst = job.Representation is not null ? "not tested: representation terms" : _device.type != DeviceType.CPU ? "not tested: not on the CPU" : "not tested: input size unknown",
                Gradients = true,
            };
            yield break;
        }
        long[] sample = [job.Architecture.InChannels, pre.Height, pre.Width];
        int[] batches = [1, 5, _options.BatchSize, 256];
        yield return OneDnnSelfTest.Check(job.Architecture.Name, model, sample, batches, gradients: true, _device);
        if (job.Teacher is { } teacher)
        {
            yield return OneDnnSelfTest.Check("online teacher", teacher.Network, sample, batches, gradients: false, _device);
        }
    }

    private OptimizerHelper CreateOptimizer(nn.Module model, nn.Module? extra)
    {
        var lr = _options.EffectiveLearningRate;
        // Weight decay only on weights that multiply (conv and linear kernels); biases and normalisation scales and
        // shifts (1-d tensors) are not decayed: shrinking them towards 0 regularises nothing useful and hurts BN nets.
        // The representation terms' trained parts (hint adapters, CRD heads) are optimised with the student.
        // TorchSharp's optimizers with a step that holds its Scalars (same state and state-file format).
        var parameters = model.parameters().Concat(extra?.parameters() ?? []).Where(p => p.requires_grad).ToList();
        var decayed = parameters.Where(p => p.dim() > 1).ToList();
        var plain = parameters.Where(p => p.dim() <= 1).ToList();
        if (string.Equals(_options.Optimizer, TrainingLoopOptions.Sgd, StringComparison.Ordinal))
        {
            return new HeldScalarOptimizers.SGD(
                [
                    new SGD.ParamGroup(decayed, new SGD.Options { weight_decay = _options.WeightDecay }),
                    new SGD.ParamGroup(plain, new SGD.Options { weight_decay = 0 }),
                ],
                lr, momentum: _options.Momentum, nesterov: _options.Momentum > 0);
        }
        return new HeldScalarOptimizers.AdamW(
            [
                new AdamW.ParamGroup(decayed, new AdamW.Options { weight_decay = _options.WeightDecay }),
                new AdamW.ParamGroup(plain, new AdamW.Options { weight_decay = 0 }),
            ],
            lr);
    }

    private async Task<EpochTotals> TrainEpochAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, BatchNormStepCounter batchNormCounter, OptimizerHelper optimizer,
        CosineWarmupSchedule schedule, ObjectiveSchedule objectiveSchedule, int epoch, int batchesPerEpoch, int skip, CancellationToken cancellationToken)
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
                if (totals.Steps < skip)
                {
                    // Replaying the order of an interrupted epoch: these steps are already in the weights.
                    totals.Steps++;
                    continue;
                }
                CheckBatch(batch, job.Architecture, "training", epoch);
                var scheduleStep = ((long)(epoch - 1) * batchesPerEpoch) + totals.Steps;
                var lr = schedule.At(scheduleStep);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                // Reseeding per step makes its random draws (dropout, ...) independent of how the run got here.
                manual_seed(unchecked((long)Seeds.Mix((ulong)_options.Seed, (ulong)scheduleStep)));
                var step = TrainStep(job, model, batchNormCounter, optimizer, batch, objectiveSchedule);
                totals.Steps++;
                totals.Samples += batch.Count;
                totals.LossSum += step.Loss * batch.Count;
                totals.Correct += step.Correct;
                totals.LabeledSamples += step.Labeled;
                if (double.IsFinite(step.CrossEntropy))
                {
                    totals.CrossEntropySum += step.CrossEntropy;
                    totals.CrossEntropySteps++;
                }
                if (double.IsFinite(step.Distillation))
                {
                    totals.DistillationSum += step.Distillation;
                    totals.DistillationSteps++;
                }
                if (step.RepresentationTerms is { } terms)
                {
                    totals.RepresentationSum += step.Representation;
                    totals.RepresentationSteps++;
                    foreach (var (name, value) in terms)
                    {
                        totals.RepresentationTermSums[name] = totals.RepresentationTermSums.GetValueOrDefault(name) + value;
                    }
                }
                var loss = step.Loss;
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
    private StepResult TrainStep(TrainingSetup job, nn.Module<Tensor, Tensor> model, BatchNormStepCounter batchNormCounter, OptimizerHelper optimizer,
        LabeledBatch batch, ObjectiveSchedule objectiveSchedule)
    {
        using var scope = NewDisposeScope();
        var representation = job.Representation;
        // The taps capture both forward passes below and hand their features back in Clear (also on failure).
        representation?.Begin();
        try
        {
            var (x, y) = ToTensors(batch);
            // Online: the teacher labels exactly this batch's (augmented, and with MixUp / CutMix mixed) pixels, every
            // sample; offline: the cached rows.
            var (teacher, hasTeacher) = job.Teacher is { } online ? (online.Logits(x), null) : TeacherTensors(batch);
            optimizer.zero_grad();
            // BatchNorm's own num_batches_tracked += 1 races the GC finalizer on its Scalars: see BatchNormStepCounter.
            var logits = batchNormCounter.Forward(() => model.call(x));
            var mix = batch.Mix is { } m ? new ObjectiveMix(MixPartners(m), m.Lambda) : null;
            var result = _objective.Compute(
                new ObjectiveInputs
                {
                    StudentLogits = logits,
                    Labels = y,
                    TeacherLogits = teacher,
                    HasTeacher = hasTeacher,
                    Mix = mix,
                    // Cached teacher rows belong to the unmixed samples: mix them like the labels. An online teacher
                    // has seen the mixed image itself, so its logits are the target as they are.
                    MixTeacherTargets = job.Teacher is null,
                },
                objectiveSchedule);
            var loss = result.Loss;
            var representationLoss = double.NaN;
            IReadOnlyDictionary<string, double>? terms = null;
            if (representation is not null)
            {
                var ids = batch.SampleIds is { } sampleIds ? tensor(sampleIds).to(_device) : null;
                var (extra, parts) = representation.Compute(ids);
                loss = HeldScalars.Add(loss, extra);
                representationLoss = extra.item<float>();
                terms = parts;
            }
            loss.backward();
            optimizer.step();
            // An explicit Scalar, alive until the using ends: an implicit one could be finalized during the call.
            using var zero = 0L.ToScalar();
            var labeled = y.ge(zero);
            var correct = logits.argmax(1).eq(y).logical_and(labeled).sum().item<long>();
            return new StepResult(loss.item<float>(), correct, labeled.sum().item<long>(), result.CrossEntropy, result.Distillation, representationLoss, terms);
        }
        finally
        {
            representation?.Clear();
        }
    }

    private Tensor MixPartners(BatchMix mix)
    {
        var partners = tensor(mix.Partner.Select(p => (long)p).ToArray());
        return _device.type == DeviceType.CPU ? partners : partners.to(_device);
    }

    private (Tensor? Logits, Tensor? HasTeacher) TeacherTensors(LabeledBatch batch)
    {
        if (batch.TeacherLogits is null)
        {
            return (null, null);
        }
        var logits = tensor(batch.TeacherLogits, [batch.Count, batch.TeacherClasses]);
        var has = batch.HasTeacher is null ? null : tensor(batch.HasTeacher);
        if (_device.type != DeviceType.CPU)
        {
            logits = logits.to(_device);
            has = has?.to(_device);
        }
        return (logits, has);
    }

    private async Task<EpochTotals> EvaluateAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, int epoch)
    {
        model.eval();
        var totals = new EpochTotals();
        try
        {
            // Not cancelled: an epoch whose training finished is worth its evaluation and checkpoint.
            await foreach (var batch in job.Eval.ReadEpochAsync(epoch, CancellationToken.None).ConfigureAwait(false))
            {
                CheckBatch(batch, job.Architecture, "evaluation", epoch);
                var step = EvalStep(model, batch);
                totals.Steps++;
                totals.Samples += batch.Count;
                totals.LossSum += step.LossSum;
                totals.Correct += step.Correct;
                totals.TeacherSamples += step.TeacherSamples;
                totals.TeacherKlSum += step.TeacherKlSum;
                totals.Agreements += step.Agreements;
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
    private EvalStepResult EvalStep(nn.Module<Tensor, Tensor> model, LabeledBatch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, y) = ToTensors(batch);
        var logits = model.call(x);
        var lossSum = nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
        var predicted = logits.argmax(1);
        var correct = predicted.eq(y).sum().item<long>();
        var (teacher, hasTeacher) = TeacherTensors(batch);
        if (teacher is null)
        {
            return new EvalStepResult(lossSum, correct, 0, 0, 0);
        }

        // KL(p_t || p_s) at T = 1 per sample, and whether the arg-maxes agree, over samples with a teacher row.
        var logPt = nn.functional.log_softmax(teacher, 1);
        var kl = logPt.exp().mul(logPt.sub(nn.functional.log_softmax(logits, 1))).sum(1);
        var agree = predicted.eq(teacher.argmax(1));
        var mask = hasTeacher ?? ones(batch.Count, ScalarType.Bool, device: logits.device);
        var samples = mask.sum().item<long>();
        using var zero = 0.0.ToScalar();
        var klSum = kl.masked_fill(mask.logical_not(), zero).sum().item<float>();
        var agreements = agree.logical_and(mask).sum().item<long>();
        return new EvalStepResult(lossSum, correct, samples, klSum, agreements);
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
            if (label >= architecture.NumClasses || (label < 0 && string.Equals(source, "evaluation", StringComparison.Ordinal)))
            {
                throw new InvalidDataException(
                    $"A {source} batch of epoch {epoch} has label {label}, outside [0, {architecture.NumClasses}) for the model's {architecture.NumClasses} classes.");
            }
        }
        if (batch.TeacherLogits is not null && batch.TeacherClasses != architecture.NumClasses)
        {
            throw new InvalidDataException(
                $"A {source} batch of epoch {epoch} has teacher logits over {batch.TeacherClasses} classes but the model '{architecture.Name}' has {architecture.NumClasses}.");
        }
    }

    private async Task<TrainerState> ResumeAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, OptimizerHelper optimizer,
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
            throw new InvalidInputException(
                $"Checkpoint '{lastPath}' is for architecture {record.Architecture} but the job trains {job.Architecture}; use another output directory to start a new run.");
        }
        var savedOptimizer = record.Training.Options?.Optimizer;
        if (!string.Equals(savedOptimizer, _options.Optimizer, StringComparison.Ordinal))
        {
            throw new InvalidInputException(
                $"Checkpoint '{lastPath}' was trained with optimizer '{savedOptimizer}' but {_section}:Optimizer is '{_options.Optimizer}'; its optimizer state cannot be resumed: set it back or use another output directory.");
        }
        var state = TrainerState.ReadFrom(record.Training, lastPath);
        CopyWeights(checkpoint.Model, model, lastPath);
        if (job.Representation is { } representation)
        {
            await LoadRepresentationAsync(representation, record, directory, lastPath, cancellationToken).ConfigureAwait(false);
        }
        await LoadOptimizerAsync(optimizer, directory, state, lastPath, cancellationToken).ConfigureAwait(false);

        // 'best' is written after 'last'; a crash in between leaves an older best. When the best epoch is the
        // last completed one, best and last hold the same weights, so best can be restored from last.
        var bestPath = RecordPath(directory, BestCheckpointName);
        if (state.BestEpoch > 0 && state.BestEpoch == state.Epoch && state.EpochComplete && BestEpochOnDisk(bestPath) != state.BestEpoch)
        {
            await SaveCheckpointAsync(job, model, Record(job, state, record.Metrics), directory, BestCheckpointName).ConfigureAwait(false);
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

    /// <summary>Restores the representation terms' trained parts saved beside <paramref name="lastPath"/>.</summary>
    public static async Task LoadRepresentationAsync(RepresentationDistillation representation, CheckpointRecord record, string directory, string lastPath,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(representation);
        ArgumentNullException.ThrowIfNull(record);
        var saved = record.Training.Representation;
        var file = saved?.File
            ?? throw new InvalidInputException($"Checkpoint '{lastPath}' was trained without representation terms; use another output directory to add them.");
        var path = Path.Combine(directory, Path.GetFileName(file));
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"Representation state '{path}' named by checkpoint record '{lastPath}' does not exist.");
        }
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(Sha256Hex(bytes), saved!.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Representation state '{path}' does not match the SHA-256 in checkpoint record '{lastPath}'.");
        }
        try
        {
            representation.LoadState(bytes);
        }
        catch (ArgumentException e)
        {
            throw new InvalidInputException($"Representation state '{path}' does not fit the configured terms ({e.Message}); use the same settings or another output directory.", e);
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
            return record.Training.Epoch ?? 0;
        }
        catch (InvalidDataException)
        {
            return 0;
        }
    }

    private async Task<TrainerState> SaveLastAsync(TrainingSetup job, nn.Module model, OptimizerHelper optimizer, string directory,
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
        await SaveCheckpointAsync(job, model, Record(job, saved, metrics), directory, LastCheckpointName).ConfigureAwait(false);

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
    private static async Task SaveCheckpointAsync(TrainingSetup job, nn.Module model, CheckpointRecord record, string directory, string name)
    {
        if (job.Representation is { } representation)
        {
            // The representation terms' trained parts (hint adapter, CRD heads and banks) live beside the student's
            // weights, so the checkpoint stays a plain student for every other stage; the record names them.
            var state = representation.SaveState();
            var file = name + RepresentationFileSuffix;
            await AtomicFile.WriteAllBytesAsync(Path.Combine(directory, file), state).ConfigureAwait(false);
            record = record with
            {
                Training = record.Training with
                {
                    Representation = RepresentationStateRecord.From(representation.Describe(), file, Sha256Hex(state)),
                },
            };
        }
        var encoded = CheckpointSerializer.Encode(model, record);
        var recordPath = RecordPath(directory, name);
        await AtomicFile.WriteAllBytesAsync(CheckpointSerializer.WeightsPathFor(recordPath, encoded.Record.WeightsFormat), encoded.Weights).ConfigureAwait(false);
        await AtomicFile.WriteAllBytesAsync(recordPath, encoded.RecordJson).ConfigureAwait(false);
    }

    private CheckpointRecord Record(TrainingSetup job, TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        var training = state.AddTo(new TrainingRecord
        {
            Options = TrainingOptionsRecord.From(_options),
            Objective = _objective.Name,
            Model = _complexity,
            // What the run was trained from (teacher, shard set, thresholds, curriculum): a checkpoint records its own settings.
            Lineage = job.Lineage,
        });
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

        public long LabeledSamples { get; set; }

        public double CrossEntropySum { get; set; }

        public int CrossEntropySteps { get; set; }

        public double DistillationSum { get; set; }

        public double RepresentationSum { get; set; }

        public int RepresentationSteps { get; set; }

        public Dictionary<string, double> RepresentationTermSums { get; } = new(StringComparer.Ordinal);

        public int DistillationSteps { get; set; }

        public long TeacherSamples { get; set; }

        public double TeacherKlSum { get; set; }

        public long Agreements { get; set; }

        public double LastLearningRate { get; set; }

        public double Seconds { get; set; }

        public bool Interrupted { get; set; }
    }

    private readonly record struct StepResult(double Loss, long Correct, long Labeled, double CrossEntropy, double Distillation,
        double Representation, IReadOnlyDictionary<string, double>? RepresentationTerms);

    private readonly record struct EvalStepResult(double LossSum, long Correct, long TeacherSamples, double TeacherKlSum, long Agreements);
}
