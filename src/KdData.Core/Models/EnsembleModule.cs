using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The <c>ensemble</c> architecture: several networks labelling as one teacher. Its output is the log of the members'
/// mean class probabilities, log((1/M) sum_m softmax(z_m)), so softmax of it is that mean (what Hinton, Vinyals and
/// Dean 2015 distil from an ensemble), and every stage that takes logits (the Labeler's soft targets at any
/// temperature, evaluation, the online teacher) takes an ensemble unchanged. Probabilities are averaged rather than
/// logits because members trained apart need not share a logit scale. State-dict names are
/// <c>members.&lt;i&gt;.&lt;member's own names&gt;</c>, so the members' weights live in one safetensors file.
/// </summary>
internal sealed class EnsembleModule : nn.Module<Tensor, Tensor>
{
    // A Sequential holds the members under "members.<i>". With a ModuleList here instead, the state dict listed every
    // member weight twice (once under its registered name, once under its private field's name: "fc" and "_fc").
    private readonly Sequential _container;
    private readonly nn.Module<Tensor, Tensor>[] _members;

    // Held for the module's life: an implicit Scalar can be freed by the GC while libtorch reads it (docs/operations.md).
    private readonly Scalar _logCount;

    public EnsembleModule(IReadOnlyList<nn.Module<Tensor, Tensor>> members) : base(nameof(EnsembleModule))
    {
        ArgumentNullException.ThrowIfNull(members);
        _members = [.. members];
        _container = nn.Sequential(_members);
        _logCount = Math.Log(members.Count).ToScalar();
        register_module("members", _container);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var logProbabilities = stack(_members.Select(m => nn.functional.log_softmax(m.call(input), 1)), 0);
        return logProbabilities.logsumexp(0, keepdim: false).sub(_logCount).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _logCount.Dispose();
        }
        base.Dispose(disposing);
    }
}
