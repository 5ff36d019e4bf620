using KdData.Objectives;
using KdData.Records;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// Distribution alignment of a self-teacher's guesses (Berthelot et al. 2020, ReMixMatch, arXiv:1911.09785, section
/// 3.2): each pool row's class probabilities <c>q = softmax(t)</c> are scaled by how much rarer the model predicts each
/// class than the labeled data holds it, <c>q' = normalize(q * (p_target + e) / (p_model + e))</c> with e = 1e-6 (as
/// the reference code adds, so a class whose average has decayed to 0 gives no 0/0), before the objective thresholds
/// them. <c>p_model</c> is a moving average of the mean of <c>q</c> over the pool rows of each batch,
/// <c>p_target</c> one of the labeled rows' one-hot labels; both start uniform and move after every batch:
/// <c>p = m * p + (1 - m) * batch mean</c> (a batch without such rows leaves its average as it is), and a batch is
/// aligned with the averages that include it (as USB's <c>DistAlignEMAHook</c> does).
/// </summary>
/// <remarks>
/// <para>Why: FixMatch's fixed threshold lets the classes the model is already sure of take most pseudo-labels; on
/// Fashion-MNIST the shirt, pullover and coat images pass 0.95 far less often, so the hard classes get fewest targets.
/// Alignment raises the probabilities of classes the model under-predicts, so more of their rows pass.</para>
/// <para>Labeled rows' logits are returned as they are. The averages are state of the run: the training loop saves
/// them in the <c>last</c> checkpoint (<see cref="ToRecord"/>) and loads them on resume (<see cref="Load"/>), so an
/// interrupted run aligns as an uninterrupted one.</para>
/// <para>Why explicit Scalars: they are passed to libtorch on every step (see <see cref="BatchNormStepCounter"/>).</para>
/// Not thread-safe: the training thread uses it.
/// </remarks>
public sealed class DistributionAlignment : IDisposable
{
    // The smallest probability a row keeps before its log: an aligned probability that underflowed to 0 would give an
    // infinite logit, and the objectives' teacher logits are finite.
    private const double Floor = 1e-30;

    // e in (p_target + e) / (p_model + e).
    private const double Epsilon = 1e-6;

    private readonly Tensor _model;
    private readonly Tensor _target;
    private readonly Scalar _momentum;
    private readonly Scalar _complement;
    private readonly Scalar _zero = 0L.ToScalar();
    private readonly Scalar _one = 1.0.ToScalar();
    private readonly Scalar _floor = Floor.ToScalar();
    private readonly Scalar _epsilon = Epsilon.ToScalar();

    /// <param name="classes">C &gt;= 2, the width of the logits.</param>
    /// <param name="momentum">m in (0, 1): the weight each average keeps per batch (ReMixMatch averages the last 128 batches; 0.999 is a slower equivalent).</param>
    /// <param name="device">Where the averages live: the training device.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public DistributionAlignment(int classes, double momentum, Device device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (!(momentum > 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The distribution-alignment momentum must be in (0, 1).");
        }
        Classes = classes;
        Momentum = momentum;
        _momentum = momentum.ToScalar();
        _complement = (1 - momentum).ToScalar();
        // Owned by this object: a caller's dispose scope must not take them.
        using var uniform = (1.0 / classes).ToScalar();
        _model = full(classes, uniform, dtype: float32, device: device).DetachFromDisposeScope();
        _target = full(classes, uniform, dtype: float32, device: device).DetachFromDisposeScope();
    }

    /// <summary>C: the number of classes.</summary>
    public int Classes { get; }

    /// <summary>m: the weight each average keeps per batch.</summary>
    public double Momentum { get; }

    /// <summary>p_model: the moving average of the pool rows' predicted probabilities.</summary>
    public float[] ModelMarginal => ToHost(_model);

    /// <summary>p_target: the moving average of the labeled rows' classes.</summary>
    public float[] TargetMarginal => ToHost(_target);

    /// <summary>
    /// Folds this batch into both averages, then returns <paramref name="teacherLogits"/> with every pool row (label
    /// &lt; 0) replaced by the log of its aligned probabilities; labeled rows are returned unchanged. No grad; the result
    /// belongs to the caller's dispose scope.
    /// </summary>
    /// <param name="teacherLogits">(N, C) logits of the self-teacher.</param>
    /// <param name="labels">(N) int64, <see cref="ObjectiveInputs.NoLabel"/> for pool rows.</param>
    public Tensor Align(Tensor teacherLogits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(labels);
        if (teacherLogits.dim() != 2 || teacherLogits.shape[1] != Classes || labels.shape[0] != teacherLogits.shape[0])
        {
            throw new ArgumentException($"Distribution alignment takes (N, {Classes}) logits and N labels; got [{string.Join(", ", teacherLogits.shape)}] and [{string.Join(", ", labels.shape)}].", nameof(teacherLogits));
        }
        using var noGrad = no_grad();
        var probabilities = teacherLogits.softmax(1);
        var pool = labels.lt(_zero);
        var labeled = pool.logical_not();
        Fold(_model, probabilities, pool);
        // A pool row's label is -1: clamp it to a valid index, the mask keeps it out of the target's mean.
        Fold(_target, nn.functional.one_hot(labels.clamp_min(_zero), Classes).to(float32), labeled);
        // add(Scalar) alone would pass TorchSharp's own implicit alpha of 1: the held one is given instead.
        var aligned = probabilities.mul(_target.add(_epsilon, _one).div(_model.add(_epsilon, _one)));
        aligned = aligned.div(aligned.sum(1, keepdim: true)).clamp_min(_floor).log();
        var result = where(pool.unsqueeze(1), aligned, teacherLogits);
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>The averages as a checkpoint stores them.</summary>
    public DistributionAlignmentRecord ToRecord() => new() { Momentum = Momentum, Model = ModelMarginal, Target = TargetMarginal };

    /// <summary>Sets both averages from a checkpoint's record.</summary>
    /// <exception cref="InvalidDataException">The record does not hold C finite, non-negative probabilities (not all 0) in each average.</exception>
    /// <exception cref="Hosting.InvalidInputException">The record was saved with another momentum (<paramref name="setting"/> names the key).</exception>
    public void Load(DistributionAlignmentRecord record, string recordPath, string setting)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Momentum != Momentum)
        {
            throw new Hosting.InvalidInputException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"Checkpoint '{recordPath}' was trained with distribution alignment {record.Momentum} but {setting} is {Momentum}; set it to the run's value or use another output directory."));
        }
        var model = Checked(record.Model, "model", recordPath);
        var target = Checked(record.Target, "target", recordPath);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        _model.copy_(tensor(model));
        _target.copy_(tensor(target));
    }

    public void Dispose()
    {
        _model.Dispose();
        _target.Dispose();
        _momentum.Dispose();
        _complement.Dispose();
        _zero.Dispose();
        _one.Dispose();
        _floor.Dispose();
        _epsilon.Dispose();
    }

    // average = m * average + (1 - m) * mean of rows[mask], without a host sync: with no row in the mask the weight of
    // the batch is 0 and the average stays.
    private void Fold(Tensor average, Tensor rows, Tensor mask)
    {
        var weights = mask.to(float32).unsqueeze(1);
        var count = weights.sum();
        // dim: named, or the literal 0 binds to the ScalarType overload (a sum of everything as bytes).
        var mean = rows.mul(weights).sum(dim: 0).div(count.clamp_min(_one));
        var step = count.gt(_zero).to(float32).mul(_complement);
        average.mul_(step.neg().add(_one, _one)).add_(mean.mul(step), _one);
    }

    private static float[] ToHost(Tensor average)
    {
        using var scope = NewDisposeScope();
        return average.cpu().data<float>().ToArray();
    }

    private float[] Checked(IReadOnlyList<float>? values, string name, string recordPath)
    {
        // A class absent from the labeled rows decays towards 0 in p_target: 0 is valid, only NaN, infinity, a negative
        // value or an all-zero average is not.
        if (values is null || values.Count != Classes || values.Any(v => !(v >= 0) || float.IsInfinity(v)) || values.All(v => v == 0))
        {
            throw new InvalidDataException(
                $"Checkpoint record '{recordPath}' has no valid 'training.distribution_alignment.{name}' ({Classes} finite, non-negative probabilities); it cannot be resumed with distribution alignment.");
        }
        return [.. values];
    }
}
