using System.Globalization;
using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
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
/// accuracy improved. Every file is replaced atomically. Saving the checkpoints, resuming from them and what keeps
/// them consistent through a crash are in <see cref="TrainingCheckpoints"/>; the end-of-epoch evaluation is in
/// <see cref="EpochEvaluation"/>, the epoch's sums in <see cref="EpochTotals"/>, the optimizer in
/// <see cref="TrainingOptimizer"/>.
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
    /// <summary>Suffix of the file beside a checkpoint holding the representation terms' trained parts.</summary>
    public const string RepresentationFileSuffix = ".representation.bin";

    private readonly TrainingLoopOptions _options;
    private readonly string _section;
    private readonly ITrainingObjective _objective;
    private readonly Device _device;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly ILogger _logger;

    /// <param name="options">Validated here as well as by the host, with the same messages.</param>
    /// <param name="objective">What each step minimises.</param>
    /// <param name="device">Device to train on; default CPU.</param>
    /// <param name="progress">Receives a report after every step and at the end of every epoch; called synchronously on the training thread.</param>
    /// <param name="logger">Logs resume and interruption; default none.</param>
    /// <param name="section">The configuration section <paramref name="options"/> were bound from, for messages naming a
    /// setting (e.g. <c>Trainer:Distill</c>). Default <see cref="TrainingLoopOptions.SectionName"/>.</param>
    /// <exception cref="ValidationException">The options are invalid; the message names each bad key, e.g. <c>Trainer:Distill:Epochs</c>.</exception>
    public TrainingLoop(TrainingLoopOptions options, ITrainingObjective objective, Device? device = null, IProgress<TrainingProgress>? progress = null, ILogger<TrainingLoop>? logger = null,
        string section = TrainingLoopOptions.SectionName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(objective);
        ArgumentException.ThrowIfNullOrEmpty(section);
        _objective = objective;
        // As the host says it: each failure naming the key of the section the options were bound from.
        if (SettingMessages.Validate(options, section) is { Count: > 0 } failures)
        {
            throw new ValidationException(string.Join(Environment.NewLine, failures));
        }
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
        if (job.SelfTeacher && (job.Teacher is not null || job.Representation is not null))
        {
            throw new ArgumentException("A self-teaching run has no other teacher and no representation terms (they would tap its labeling pass).", nameof(job));
        }
        if (_options.EmaTeacher && !job.SelfTeacher)
        {
            throw new InvalidInputException($"{_section}:EmaTeacher makes the moving average the teacher of a self-teaching run; this run has no self-teacher (set Teacher to self, or EmaTeacher to false).");
        }
        if (_options.DistributionAlignment > 0 && !job.SelfTeacher)
        {
            throw new InvalidInputException($"{_section}:DistributionAlignment aligns the guesses of a self-teaching run; this run has no self-teacher (set Teacher to self, or DistributionAlignment to 0).");
        }
        var parameters = ModelComplexity.Parameters(model);
        long? macs = job.Preprocessing is { } pre ? ModelComplexity.Macs(model, job.Architecture.InChannels, pre.Height, pre.Width) : null;
        _logger.LogInformation("Model {Architecture}: {Parameters} parameters, {Macs} MACs per image; objective {Objective}", job.Architecture.Name, parameters, macs, _objective.Name);
        var batchesPerEpoch = job.Train.BatchesPerEpoch;
        if (batchesPerEpoch < 1)
        {
            throw new ArgumentException($"The training data reports {batchesPerEpoch} batches per epoch; at least one is needed.", nameof(job));
        }

        var directory = Path.GetFullPath(job.OutputDirectory);
        Directory.CreateDirectory(directory);
        var metricsPath = Path.Combine(directory, ArtifactFiles.Metrics);
        var checkpoints = new TrainingCheckpoints(job, directory, _options, _section, _objective.Name, new ModelCostRecord { Parameters = parameters, Macs = macs }, _logger);

        model.to(_device);
        job.Representation?.to(_device);
        using var optimizer = TrainingOptimizer.Create(_options, model, job.Representation);
        // After model.to: the counter finds the BatchNorm modules, whose buffers to() may have replaced.
        using var batchNormCounter = new BatchNormStepCounter(model);
        // Also after model.to, and before the resume, which loads the published weights into it.
        using var average = _options.EmaDecay > 0 ? new WeightAverage(model, _options.EmaDecay) : null;
        var state = await checkpoints.ResumeAsync(model, average, optimizer, cancellationToken).ConfigureAwait(false);
        using var alignment = _options.DistributionAlignment > 0 ? new DistributionAlignment(job.Architecture.NumClasses, _options.DistributionAlignment, _device) : null;
        ResumeAlignment(alignment, state, checkpoints.LastPath);
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
            var train = await TrainEpochAsync(job, model, batchNormCounter, average, alignment, optimizer, schedule, objectiveSchedule, epoch, batchesPerEpoch, skip, cancellationToken).ConfigureAwait(false);
            // With a weight average, the model holds it from here to the epoch's checkpoints (evaluated and saved as
            // the run's weights); the weights being trained are saved beside last.
            var rawWeights = average is null ? null : ModelWeights.Export(model);
            using var published = average?.Swap();
            if (train.Interrupted)
            {
                interrupted = true;
                if (train.Steps > skip)
                {
                    state = await checkpoints.SaveInterruptedAsync(model, rawWeights, optimizer,
                        state with { Epoch = epoch, EpochComplete = false, StepsInEpoch = train.Steps, Alignment = alignment?.ToRecord() }).ConfigureAwait(false);
                }
                _logger.LogInformation("Training interrupted in epoch {Epoch} after {Steps} steps; a resume continues from there.", epoch, train.Steps);
                break;
            }
            if (train.Samples == 0 && skip == 0)
            {
                throw new InvalidDataException($"The training data yielded no samples in epoch {epoch}.");
            }

            var eval = await EpochEvaluation.EvaluateAsync(job, model, epoch, _device).ConfigureAwait(false);
            var metrics = train.ToMetrics(eval, epoch, clock.Elapsed.TotalSeconds, _objective.NeedsTeacher ? objectiveSchedule : null);
            var improved = state.BestEpoch == 0 || metrics.EvalAccuracy > state.BestEvalAccuracy;
            var completed = state with
            {
                Epoch = epoch,
                EpochComplete = true,
                StepsInEpoch = train.Steps,
                BestEpoch = improved ? epoch : state.BestEpoch,
                BestEvalAccuracy = improved ? metrics.EvalAccuracy : state.BestEvalAccuracy,
                Alignment = alignment?.ToRecord(),
            };

            // Order matters for crash consistency: the metrics line, then the checkpoints (see TrainingCheckpoints).
            await MetricsLog.AppendAsync(metricsPath, metrics, CancellationToken.None).ConfigureAwait(false);
            state = await checkpoints.SaveEpochAsync(model, rawWeights, optimizer, completed, metrics).ConfigureAwait(false);
            published?.Dispose();
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

        // The caller's model ends with the weights of last: the average, when there is one.
        average?.Publish();
        return new TrainingResult
        {
            EpochsCompleted = state.EpochsCompleted,
            BestEvalAccuracy = state.BestEpoch > 0 ? state.BestEvalAccuracy : double.NaN,
            BestEpoch = state.BestEpoch,
            Interrupted = interrupted,
            LastCheckpointPath = File.Exists(checkpoints.LastPath) ? checkpoints.LastPath : null,
            BestCheckpointPath = File.Exists(checkpoints.BestPath) ? checkpoints.BestPath : null,
            MetricsPath = metricsPath,
        };
    }

    /// <summary>
    /// Loads the alignment averages a <c>last</c> checkpoint holds; a checkpoint trained with alignment resumed without
    /// it, or the other way round, is refused (its targets would change mid-run).
    /// </summary>
    private void ResumeAlignment(DistributionAlignment? alignment, TrainerState state, string lastPath)
    {
        if (state.Epoch == 0)
        {
            return;
        }
        if ((alignment is null) != (state.Alignment is null))
        {
            throw new InvalidInputException(alignment is null
                ? $"Checkpoint '{lastPath}' was trained with distribution alignment but {_section}:DistributionAlignment is 0; set it to the run's value or use another output directory."
                : $"Checkpoint '{lastPath}' was trained without distribution alignment but {_section}:DistributionAlignment is {alignment.Momentum.ToString(CultureInfo.InvariantCulture)}; set it to 0 or use another output directory.");
        }
        if (alignment is not null)
        {
            alignment.Load(state.Alignment!, lastPath, $"{_section}:DistributionAlignment");
        }
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

    private async Task<EpochTotals> TrainEpochAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, BatchNormStepCounter batchNormCounter, WeightAverage? average,
        DistributionAlignment? alignment, OptimizerHelper optimizer,
        CosineWarmupSchedule schedule, ObjectiveSchedule objectiveSchedule, int epoch, int batchesPerEpoch, int skip, CancellationToken cancellationToken)
    {
        model.train();
        var totals = new EpochTotals();
        var clock = Stopwatch.StartNew();
        var cpu = Environment.CpuUsage.TotalTime;
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
                batch.CheckFits(job.Architecture, "training", epoch);
                var scheduleStep = ((long)(epoch - 1) * batchesPerEpoch) + totals.Steps;
                var lr = schedule.At(scheduleStep);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                // Reseeding per step makes its random draws (dropout, ...) independent of how the run got here.
                manual_seed(unchecked((long)Seeds.Mix((ulong)_options.Seed, (ulong)scheduleStep)));
                var step = TrainStep(job, model, batchNormCounter, _options.EmaTeacher ? average : null, alignment, optimizer, batch, objectiveSchedule);
                average?.Update();
                totals.Add(step, batch.Count);
                totals.LastLearningRate = lr;
                totals.Seconds = clock.Elapsed.TotalSeconds;
                totals.CpuSeconds = (Environment.CpuUsage.TotalTime - cpu).TotalSeconds;
                _progress?.Report(new TrainingProgress
                {
                    Epoch = epoch,
                    Epochs = _options.Epochs,
                    Step = totals.Steps,
                    StepsPerEpoch = batchesPerEpoch,
                    GlobalStep = scheduleStep + 1,
                    Loss = step.Loss,
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

    /// <summary>
    /// Self-teaching (FixMatch): the model's own eval-mode logits for <paramref name="input"/>, without grad, before this
    /// step's update; with <paramref name="average"/>, those of the moving average of its weights (swapped in for the
    /// call). Eval mode keeps the labeling pass out of BatchNorm's running statistics and turns dropout off.
    /// </summary>
    private static Tensor SelfLogits(nn.Module<Tensor, Tensor> model, WeightAverage? average, Tensor input)
    {
        using var noGrad = no_grad();
        using var teacher = average?.Swap();
        model.eval();
        try
        {
            return model.call(input);
        }
        finally
        {
            model.train();
        }
    }

    // Synchronous on purpose: the dispose scope must not span an await (scopes are per thread).
    // teacherAverage: the moving average that labels a self-teaching batch (a mean teacher); null: the model labels it.
    // alignment: scales a self-teacher's guesses on the pool rows before the objective sees them; null: none.
    private TrainingStepResult TrainStep(TrainingSetup job, nn.Module<Tensor, Tensor> model, BatchNormStepCounter batchNormCounter, WeightAverage? teacherAverage,
        DistributionAlignment? alignment, OptimizerHelper optimizer, LabeledBatch batch, ObjectiveSchedule objectiveSchedule)
    {
        using var scope = NewDisposeScope();
        var representation = job.Representation;
        // The taps capture both forward passes below and hand their features back in Clear (also on failure).
        representation?.Begin();
        try
        {
            var (x, y) = batch.ToTensors(_device);
            // Online: the teacher labels exactly this batch's (augmented, and with MixUp / CutMix mixed) pixels, every
            // sample; offline: the cached rows.
            var teacherInput = batch.TeacherInput(x, _device);
            var (teacher, hasTeacher) = job.Teacher is { } online ? (online.Logits(teacherInput), null)
                : job.SelfTeacher ? (SelfLogits(model, teacherAverage, teacherInput), null)
                : batch.TeacherTensors(_device);
            if (alignment is not null && teacher is not null)
            {
                teacher = alignment.Align(teacher, y);
            }
            optimizer.zero_grad();
            // BatchNorm's own num_batches_tracked += 1 races the GC finalizer on its Scalars: see BatchNormStepCounter.
            var logits = batchNormCounter.Forward(() => model.call(x));
            var mix = batch.Mix is { } m ? new ObjectiveMix(m.PartnerTensor(_device), m.Lambda) : null;
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
                    MixTeacherTargets = job.Teacher is null && !job.SelfTeacher,
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
            return new TrainingStepResult(loss.item<float>(), correct, labeled.sum().item<long>(), result.CrossEntropy, result.Distillation, representationLoss, terms)
            {
                PseudoLabelRate = result.PseudoLabelRate,
            };
        }
        finally
        {
            representation?.Clear();
        }
    }
}
