using System.Security.Cryptography;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// The checkpoints of one <see cref="TrainingLoop"/> run in its output directory, and the resume from them:
/// <c>last</c> (weights, optimizer state and record: the resume point) and <c>best</c> (the epoch with the highest
/// evaluation accuracy), each with the representation terms' trained parts beside it when the run has them.
/// </summary>
/// <remarks>
/// <para>
/// A type of its own because its contract is crash consistency, which the loop's steps do not need to know about:
/// every file is replaced atomically (<see cref="AtomicFile"/>); within a checkpoint the weights (and optimizer and
/// representation state) are written before the record that names them with their SHA-256, so the record on disk is
/// the commit point and always describes complete files; the optimizer state gets a fresh name on every save, so the
/// file the current record names is never overwritten; <c>best</c> is written after <c>last</c>, and a resume that
/// finds an older <c>best</c> than the record says (a crash in between) writes it again from <c>last</c>.
/// </para>
/// <para>
/// A resume refuses (<see cref="InvalidInputException"/>) a <c>last</c> checkpoint of another run: another
/// architecture, optimizer or set of representation terms. Damaged or missing files are
/// <see cref="InvalidDataException"/>.
/// </para>
/// </remarks>
internal sealed class TrainingCheckpoints
{
    private const string LastCheckpointName = ArtifactFiles.LastCheckpoint;
    private const string BestCheckpointName = ArtifactFiles.BestCheckpoint;
    private const string RepresentationFileSuffix = TrainingLoop.RepresentationFileSuffix;
    private const string OptimizerFilePrefix = LastCheckpointName + ".optimizer.";
    private const string OptimizerFileSuffix = ".bin";
    private const string RawWeightsFilePrefix = LastCheckpointName + ".raw.";
    private const string RawWeightsFileSuffix = ".safetensors";

    private readonly TrainingSetup _job;
    private readonly string _directory;
    private readonly TrainingLoopOptions _options;
    private readonly string _section;
    private readonly string _objective;
    private readonly ModelCostRecord _model;
    private readonly ILogger _logger;

    /// <param name="job">The run; its architecture, classes, preprocessing and lineage go into every record.</param>
    /// <param name="directory">The run's output directory (full path).</param>
    /// <param name="options">The loop's options, recorded and compared on resume.</param>
    /// <param name="section">The configuration section <paramref name="options"/> were bound from, for messages naming a setting.</param>
    /// <param name="objective">Name of the objective, recorded.</param>
    /// <param name="model">Size and cost of the trained model, recorded.</param>
    /// <param name="logger">Logs a resume.</param>
    public TrainingCheckpoints(TrainingSetup job, string directory, TrainingLoopOptions options, string section, string objective, ModelCostRecord model, ILogger logger)
    {
        _job = job;
        _directory = directory;
        _options = options;
        _section = section;
        _objective = objective;
        _model = model;
        _logger = logger;
        LastPath = RecordPath(LastCheckpointName);
        BestPath = RecordPath(BestCheckpointName);
    }

    /// <summary>Path of the <c>last</c> checkpoint's record.</summary>
    public string LastPath { get; }

    /// <summary>Path of the <c>best</c> checkpoint's record.</summary>
    public string BestPath { get; }

    /// <summary>
    /// Where the run stands: a fresh start when there is no <c>last</c> checkpoint; otherwise its state, with its
    /// weights, optimizer state and representation terms' parts loaded into <paramref name="model"/>,
    /// <paramref name="optimizer"/> and the job's representation terms (and <c>best</c> repaired if need be). With a
    /// weight average the checkpoint's weights are the average (loaded into <paramref name="average"/>) and the
    /// weights being trained come from the <c>raw_weights</c> file beside it.
    /// </summary>
    public async Task<TrainerState> ResumeAsync(nn.Module model, WeightAverage? average, OptimizerHelper optimizer, CancellationToken cancellationToken)
    {
        var lastPath = LastPath;
        if (!File.Exists(lastPath))
        {
            return new TrainerState { Epoch = 0, EpochComplete = true };
        }

        using var checkpoint = await CheckpointSerializer.LoadAsync(lastPath, cancellationToken: cancellationToken).ConfigureAwait(false);
        var record = checkpoint.Record;
        if (record.Architecture != _job.Architecture)
        {
            throw new InvalidInputException(
                $"Checkpoint '{lastPath}' is for architecture {record.Architecture} but the job trains {_job.Architecture}; use another output directory to start a new run.");
        }
        var savedOptimizer = record.Training.Options?.Optimizer;
        if (!string.Equals(savedOptimizer, _options.Optimizer, StringComparison.Ordinal))
        {
            throw new InvalidInputException(
                $"Checkpoint '{lastPath}' was trained with optimizer '{savedOptimizer}' but {_section}:Optimizer is '{_options.Optimizer}'; its optimizer state cannot be resumed: set it back or use another output directory.");
        }
        var state = TrainerState.ReadFrom(record.Training, lastPath);
        if ((average is null) != (state.RawWeightsFile is null))
        {
            throw new InvalidInputException(average is null
                ? $"Checkpoint '{lastPath}' holds a moving average of the weights but {_section}:EmaDecay is 0; set it to the run's value or use another output directory."
                : $"Checkpoint '{lastPath}' was trained without a moving average of the weights but {_section}:EmaDecay is {average.Decay.ToString(System.Globalization.CultureInfo.InvariantCulture)}; set it to 0 or use another output directory.");
        }
        // The checkpoint's own weights are what was published: the average when there is one.
        CopyWeights(checkpoint.Model, model, lastPath);
        if (_job.Representation is { } representation)
        {
            await LoadRepresentationAsync(representation, record, cancellationToken).ConfigureAwait(false);
        }
        await LoadOptimizerAsync(optimizer, state, cancellationToken).ConfigureAwait(false);

        // 'best' is written after 'last'; a crash in between leaves an older best. When the best epoch is the
        // last completed one, best and last hold the same weights, so best can be restored from last.
        if (state.BestEpoch > 0 && state.BestEpoch == state.Epoch && state.EpochComplete && BestEpochOnDisk() != state.BestEpoch)
        {
            await SaveCheckpointAsync(model, Record(state with { RawWeightsFile = null }, record.Metrics), BestCheckpointName).ConfigureAwait(false);
        }
        if (average is not null)
        {
            average.Reset();
            await LoadRawWeightsAsync(model, state, cancellationToken).ConfigureAwait(false);
        }
        _logger.LogInformation("Resuming from '{Checkpoint}': epoch {Epoch} ({Status}); continuing with epoch {Next}.",
            lastPath, state.Epoch, state.EpochComplete ? "complete" : "interrupted", state.EpochsCompleted + 1);
        return state;
    }

    /// <summary>
    /// Saves a completed epoch: <c>last</c>, then <c>best</c> when <paramref name="completed"/> makes this epoch the
    /// best one. Not cancellable: the files must not be torn.
    /// </summary>
    /// <param name="model">Holds the weights to publish (the average, when there is one).</param>
    /// <param name="rawWeights">The weights being trained, exported, when <paramref name="model"/> holds their average; otherwise null.</param>
    /// <param name="optimizer">Its state is saved beside <c>last</c>.</param>
    /// <param name="completed">The run's state after this epoch.</param>
    /// <param name="metrics">The epoch's metrics, recorded in both records.</param>
    /// <returns><paramref name="completed"/> with the optimizer state file it was saved with.</returns>
    public async Task<TrainerState> SaveEpochAsync(nn.Module model, byte[]? rawWeights, OptimizerHelper optimizer, TrainerState completed, EpochMetrics metrics)
    {
        var recorded = RecordMetrics(metrics);
        var saved = await SaveLastAsync(model, rawWeights, optimizer, completed, recorded).ConfigureAwait(false);
        if (saved.BestEpoch == saved.Epoch)
        {
            // best is never resumed from, and the raw weights file belongs to last (it is replaced on the next save).
            await SaveCheckpointAsync(model, Record(saved with { RawWeightsFile = null }, recorded), BestCheckpointName).ConfigureAwait(false);
        }
        return saved;
    }

    /// <summary>Saves <c>last</c> for an epoch interrupted after some steps (no metrics); arguments as <see cref="SaveEpochAsync"/>.</summary>
    /// <returns><paramref name="interrupted"/> with the optimizer state file it was saved with.</returns>
    public Task<TrainerState> SaveInterruptedAsync(nn.Module model, byte[]? rawWeights, OptimizerHelper optimizer, TrainerState interrupted) =>
        SaveLastAsync(model, rawWeights, optimizer, interrupted, new Dictionary<string, double>());

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

    /// <summary>Restores the representation terms' trained parts saved beside the <c>last</c> checkpoint.</summary>
    private async Task LoadRepresentationAsync(RepresentationDistillation representation, CheckpointRecord record, CancellationToken cancellationToken)
    {
        var lastPath = LastPath;
        var saved = record.Training.Representation;
        var file = saved?.File
            ?? throw new InvalidInputException($"Checkpoint '{lastPath}' was trained without representation terms; use another output directory to add them.");
        var path = Path.Combine(_directory, Path.GetFileName(file));
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

    private async Task LoadOptimizerAsync(OptimizerHelper optimizer, TrainerState state, CancellationToken cancellationToken)
    {
        if (state.OptimizerStateFile is null)
        {
            throw new InvalidDataException($"Checkpoint record '{LastPath}' names no optimizer state; it cannot be resumed from.");
        }
        var bytes = await ReadNamedFileAsync("Optimizer state", state.OptimizerStateFile, state.OptimizerSha256, cancellationToken).ConfigureAwait(false);
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        optimizer.load_state_dict(reader);
    }

    private async Task LoadRawWeightsAsync(nn.Module model, TrainerState state, CancellationToken cancellationToken)
    {
        var bytes = await ReadNamedFileAsync("Raw weights", state.RawWeightsFile!, state.RawWeightsSha256, cancellationToken).ConfigureAwait(false);
        ModelWeights.Import(model, bytes);
    }

    /// <summary>A file the <c>last</c> record names beside itself, checked against the SHA-256 the record gives.</summary>
    private async Task<byte[]> ReadNamedFileAsync(string what, string file, string? sha256, CancellationToken cancellationToken)
    {
        var lastPath = LastPath;
        var path = Path.Combine(_directory, Path.GetFileName(file));
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{what} '{path}' named by checkpoint record '{lastPath}' does not exist.");
        }
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (!string.Equals(Sha256Hex(bytes), sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{what} '{path}' does not match the SHA-256 in checkpoint record '{lastPath}'.");
        }
        return bytes;
    }

    /// <summary>The epoch the <c>best</c> record on disk is of; 0 when there is none or it cannot be read.</summary>
    private int BestEpochOnDisk()
    {
        if (!File.Exists(BestPath))
        {
            return 0;
        }
        try
        {
            var record = CheckpointSerializer.ParseRecord(File.ReadAllBytes(BestPath));
            return record.Training.Epoch ?? 0;
        }
        catch (InvalidDataException)
        {
            return 0;
        }
    }

    private async Task<TrainerState> SaveLastAsync(nn.Module model, byte[]? rawWeights, OptimizerHelper optimizer, TrainerState state, IReadOnlyDictionary<string, double> metrics)
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
        await AtomicFile.WriteAllBytesAsync(Path.Combine(_directory, optimizerFile), optimizerBytes).ConfigureAwait(false);
        // The raw weights likewise: a fresh name, written before the record that names them.
        string? rawFile = null;
        if (rawWeights is not null)
        {
            rawFile = RawWeightsFilePrefix + Guid.NewGuid().ToString("N") + RawWeightsFileSuffix;
            await AtomicFile.WriteAllBytesAsync(Path.Combine(_directory, rawFile), rawWeights).ConfigureAwait(false);
        }

        var saved = state with
        {
            OptimizerStateFile = optimizerFile,
            OptimizerSha256 = Sha256Hex(optimizerBytes),
            RawWeightsFile = rawFile,
            RawWeightsSha256 = rawWeights is null ? null : Sha256Hex(rawWeights),
        };
        await SaveCheckpointAsync(model, Record(saved, metrics), LastCheckpointName).ConfigureAwait(false);

        DeleteStale(OptimizerFilePrefix + "*" + OptimizerFileSuffix, optimizerFile);
        DeleteStale(RawWeightsFilePrefix + "*" + RawWeightsFileSuffix, rawFile);
        return saved;
    }

    /// <summary>Deletes the files matching <paramref name="pattern"/> except <paramref name="current"/> (the one the record now names).</summary>
    private void DeleteStale(string pattern, string? current)
    {
        foreach (var stale in Directory.EnumerateFiles(_directory, pattern))
        {
            if (!string.Equals(Path.GetFileName(stale), current, StringComparison.Ordinal))
            {
                File.Delete(stale);
            }
        }
    }

    /// <summary>
    /// Like <see cref="CheckpointSerializer.SaveAsync"/> but each file is replaced atomically: weights first,
    /// then the record (which carries the weights' SHA-256, so a record never names weights it does not match
    /// except in the instant between the two renames, which a load detects).
    /// </summary>
    private async Task SaveCheckpointAsync(nn.Module model, CheckpointRecord record, string name)
    {
        if (_job.Representation is { } representation)
        {
            // The representation terms' trained parts (hint adapter, CRD heads and banks) live beside the student's
            // weights, so the checkpoint stays a plain student for every other stage; the record names them.
            var state = representation.SaveState();
            var file = name + RepresentationFileSuffix;
            await AtomicFile.WriteAllBytesAsync(Path.Combine(_directory, file), state).ConfigureAwait(false);
            record = record with
            {
                Training = record.Training with
                {
                    Representation = RepresentationStateRecord.From(representation.Describe(), file, Sha256Hex(state)),
                },
            };
        }
        var encoded = CheckpointSerializer.Encode(model, record);
        var recordPath = RecordPath(name);
        await AtomicFile.WriteAllBytesAsync(CheckpointSerializer.WeightsPathFor(recordPath, encoded.Record.WeightsFormat), encoded.Weights).ConfigureAwait(false);
        await AtomicFile.WriteAllBytesAsync(recordPath, encoded.RecordJson).ConfigureAwait(false);
    }

    private CheckpointRecord Record(TrainerState state, IReadOnlyDictionary<string, double> metrics)
    {
        var training = state.AddTo(new TrainingRecord
        {
            Options = TrainingOptionsRecord.From(_options),
            Objective = _objective,
            Model = _model,
            // What the run was trained from (teacher, shard set, thresholds, curriculum): a checkpoint records its own settings.
            Lineage = _job.Lineage,
        });
        return new CheckpointRecord
        {
            Architecture = _job.Architecture,
            Classes = _job.Classes,
            Preprocessing = _job.Preprocessing,
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

    private string RecordPath(string name) => Path.Combine(_directory, name + CheckpointSerializer.RecordExtension);

    private static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));
}
