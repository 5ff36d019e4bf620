using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>A loaded checkpoint: the rebuilt model with its weights, and its (verified) record. Owns the model.</summary>
public sealed class Checkpoint : IDisposable
{
    public Checkpoint(nn.Module<Tensor, Tensor> model, CheckpointRecord record)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(record);
        Model = model;
        Record = record;
    }

    /// <summary>The model, in training mode, with every parameter requiring gradients.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The record the model was rebuilt from.</summary>
    public CheckpointRecord Record { get; }

    public void Dispose() => Model.Dispose();
}
