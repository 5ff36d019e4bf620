using KdData.Models;
using KdData.Storage;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// A teacher run inside the training loop (online distillation): loaded from a checkpoint onto the student's device,
/// frozen (no parameter requires grad, so the optimizer never sees it and backward never reaches it) and kept in
/// eval mode (BatchNorm uses its running statistics, dropout is off), called once per step on exactly the tensor the
/// student is called on, so it labels the student's augmented view rather than a cached one.
/// <para>
/// The forward runs under <c>no_grad</c>, not <c>inference_mode</c>: its outputs (logits, and the features forward
/// hooks capture for representation losses) enter a loss together with the student's tensors, and autograd refuses
/// to save inference tensors for backward. The outputs belong to the caller's dispose scope (the training step's).
/// </para>
/// Not thread-safe: the training thread calls it.
/// </summary>
public sealed class OnlineTeacher : IDisposable
{
    private readonly InferenceModel _model;

    private OnlineTeacher(InferenceModel model)
    {
        _model = model;
        foreach (var parameter in model.Network.parameters())
        {
            parameter.requires_grad = false;
        }
        model.Network.eval();
    }

    /// <summary>Where the checkpoint record came from (path or location URL), as configured.</summary>
    public string Source => _model.Source;

    /// <summary>16 hex digits of the teacher weights' SHA-256 (the Labeler's teacher id).</summary>
    public string Id => _model.Id;

    /// <summary>The teacher checkpoint's record (architecture, classes, preprocessing).</summary>
    public CheckpointRecord Record => _model.Record;

    /// <summary>The frozen network (eval mode); forward hooks for representation losses attach to its submodules.</summary>
    public nn.Module<Tensor, Tensor> Network => _model.Network;

    /// <summary>Loads the checkpoint at <paramref name="recordLocation"/> (path or location URL) onto <paramref name="device"/>.</summary>
    /// <exception cref="FileNotFoundException">The record does not exist.</exception>
    public static async Task<OnlineTeacher> LoadAsync(ObjectStoreFactory stores, string recordLocation, Device device, CancellationToken cancellationToken = default)
    {
        var model = await InferenceModel.LoadAsync(stores, recordLocation, device, cancellationToken).ConfigureAwait(false);
        return new OnlineTeacher(model);
    }

    /// <summary>
    /// The teacher's logits (N, C) for <paramref name="input"/> (N, C_in, H, W), on the input's device, without grad.
    /// Eval mode is reasserted on every call: a caller's <c>train()</c> on a module tree holding the teacher must not
    /// switch its BatchNorm to batch statistics.
    /// </summary>
    public Tensor Logits(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var noGrad = no_grad();
        _model.Network.eval();
        return _model.Network.call(input);
    }

    public void Dispose() => _model.Dispose();
}
