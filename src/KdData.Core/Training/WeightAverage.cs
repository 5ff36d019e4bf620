using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// An exponential moving average of a model's weights (Polyak averaging), the model FixMatch evaluates: after every
/// optimizer step each parameter's average becomes <c>a = d * a + (1 - d) * w</c>; buffers (BatchNorm's running
/// statistics and step count) are copied as they are, since they are already averages of the data, not of the
/// weights (as FixMatch's reference code does). Sohn et al. 2020 (arXiv:2001.07685), section 4 and appendix B.1:
/// decay 0.999.
/// </summary>
/// <remarks>
/// <para>Why not a second module: the models a loop trains are built by <see cref="Models.ModelZoo"/> or handed in
/// (a pruned network whose shape no spec rebuilds), so the average is kept as one tensor beside each entry of the
/// model's <c>state_dict</c>, and <see cref="Swap"/> puts it into the model for as long as it is evaluated or saved.</para>
/// <para>Why explicit Scalars: <c>d</c> and <c>1 - d</c> are passed to libtorch on every step; implicit conversions
/// could be finalized while libtorch reads them (see <see cref="BatchNormStepCounter"/>).</para>
/// Not thread-safe: the training thread uses it. The pairs are taken at construction, so build it after the model's
/// last <c>to(device)</c>.
/// </remarks>
public sealed class WeightAverage : IDisposable
{
    private readonly (Tensor Model, Tensor Average, bool Averaged)[] _pairs;
    private readonly Scalar _decay;
    private readonly Scalar _complement;

    /// <param name="model">The model being trained; the average starts at its current weights.</param>
    /// <param name="decay">d in (0, 1): the weight the average keeps per step.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is not in (0, 1).</exception>
    public WeightAverage(nn.Module model, double decay)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(decay > 0 && decay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "The weight-average decay must be in (0, 1).");
        }
        Decay = decay;
        _decay = decay.ToScalar();
        _complement = (1 - decay).ToScalar();
        var parameters = model.named_parameters().Select(p => p.name).ToHashSet(StringComparer.Ordinal);
        using var noGrad = no_grad();
        _pairs = model.state_dict()
            .Select(entry => (entry.Value, entry.Value.clone(), parameters.Contains(entry.Key) && entry.Value.is_floating_point()))
            .ToArray();
    }

    /// <summary>d: the weight the average keeps per step.</summary>
    public double Decay { get; }

    /// <summary>Folds the model's current weights into the average; call after every optimizer step.</summary>
    public void Update()
    {
        // In-place results are left to the scope: depending on the TorchSharp version they are the average itself
        // (not the scope's) or a second handle to it (the scope's to dispose).
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (model, average, averaged) in _pairs)
        {
            if (averaged)
            {
                average.mul_(_decay).add_(model, _complement);
            }
            else
            {
                average.copy_(model);
            }
        }
        GC.KeepAlive(this);
    }

    /// <summary>Sets the average to the model's current weights (a resume's published weights, before the trained ones are loaded).</summary>
    public void Reset() => Copy(intoModel: false);

    /// <summary>
    /// Exchanges the model's weights and the average; disposing the result exchanges them back. While swapped the
    /// model holds the average (to evaluate or save it) and this object holds the weights being trained.
    /// </summary>
    public IDisposable Swap()
    {
        Exchange();
        return new SwapBack(this);
    }

    /// <summary>Copies the average into the model for good (the run is over: the model is what was published).</summary>
    public void Publish() => Copy(intoModel: true);

    public void Dispose()
    {
        foreach (var (_, average, _) in _pairs)
        {
            average.Dispose();
        }
        _decay.Dispose();
        _complement.Dispose();
    }

    private void Copy(bool intoModel)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (model, average, _) in _pairs)
        {
            (intoModel ? model : average).copy_(intoModel ? average : model);
        }
    }

    private void Exchange()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (model, average, _) in _pairs)
        {
            var held = model.clone();
            model.copy_(average);
            average.copy_(held);
        }
    }

    private sealed class SwapBack(WeightAverage owner) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (!_done)
            {
                _done = true;
                owner.Exchange();
            }
        }
    }
}
