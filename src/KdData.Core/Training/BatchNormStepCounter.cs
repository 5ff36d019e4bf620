using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// Counts a model's BatchNorm training batches (the <c>num_batches_tracked</c> buffers) in place of TorchSharp's
/// <c>BatchNorm.forward</c>, whose own count crashes at random in long runs under CPU load.
/// <para>
/// Why: TorchSharp 0.107's <c>BatchNorm.forward</c> runs <c>num_batches_tracked.add_(1)</c>. The <c>1</c> becomes a
/// <see cref="Scalar"/> by implicit conversion, and <c>add_(Scalar)</c> makes a second one for <c>alpha</c>. Scalars
/// are not tracked by dispose scopes and free their native <c>c10::Scalar</c> in a finalizer; <c>add_</c> keeps no
/// reference to them once it has passed their handles to libtorch (no <c>GC.KeepAlive</c>), so a GC started by
/// another thread during the native call (the data loaders allocate batch arrays all the time) collects them and
/// the finalizer thread deletes the native objects while libtorch reads them: "Unknown scalar type"
/// (c10/core/Scalar.h), "For integral input tensors, argument alpha must not be a floating point number",
/// "Expected false to be true". The window is a few microseconds per BatchNorm per step, hence a crash after
/// hundreds of steps, more often the busier the machine.
/// </para>
/// <para>
/// How: for the forward pass, each BatchNorm in training mode has its counter tensor taken out of its (private)
/// field, so TorchSharp's forward skips the increment; with a momentum set (every model here: PyTorch's default
/// 0.1) that is all the count is used for, and the running statistics are updated exactly as before. Afterwards the
/// counter is put back and incremented with Scalars this object holds alive. BatchNorms with
/// <c>momentum = null</c> (a cumulative average that reads the count) are left to TorchSharp. The buffers, their
/// names and values, and so the checkpoints, are the same as without this class.
/// </para>
/// Not thread-safe: the training thread uses it, around the student's forward pass.
/// </summary>
public sealed class BatchNormStepCounter : IDisposable
{
    // NormBase keeps the buffer in this field; the public setter would dispose the tensor and re-register the
    // buffer (changing the state_dict order), so the field itself is swapped. Pinned to the TorchSharp version in
    // Directory.Packages.props; BatchNormStepCounterTests fails if an upgrade renames it.
    private static readonly FieldInfo CounterField =
        typeof(NormBase).GetField("_num_batches_tracked", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("TorchSharp's NormBase has no '_num_batches_tracked' field; BatchNormStepCounter needs updating for this TorchSharp version.");

    private readonly List<BatchNorm> _norms;
    private readonly Scalar _one = 1L.ToScalar();
    private bool _disposed;

    /// <param name="model">The model whose BatchNorm modules (at any depth) are counted.</param>
    public BatchNormStepCounter(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _norms = [.. model.modules().OfType<BatchNorm>().Where(n => n.track_running_stats && n.momentum is not null)];
    }

    /// <summary>How many BatchNorm modules this counter handles.</summary>
    public int Count => _norms.Count;

    /// <summary>
    /// Runs <paramref name="forward"/> (the model's forward pass) with the counting done here: after a forward that
    /// returns, every BatchNorm that was in training mode has its <c>num_batches_tracked</c> one higher, as
    /// TorchSharp's forward would have done; after one that throws, the counters are restored unchanged.
    /// </summary>
    public T Forward<T>(Func<T> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var taken = new List<(BatchNorm Norm, Tensor Counter)>(_norms.Count);
        foreach (var norm in _norms)
        {
            if (norm.training && CounterField.GetValue(norm) is Tensor counter)
            {
                CounterField.SetValue(norm, null);
                taken.Add((norm, counter));
            }
        }
        var completed = false;
        try
        {
            var result = forward();
            completed = true;
            return result;
        }
        finally
        {
            foreach (var (norm, counter) in taken)
            {
                CounterField.SetValue(norm, counter);
                if (completed)
                {
                    // Both operands are this object's Scalar, alive until the KeepAlive below. Depending on the
                    // TorchSharp version add_ returns the counter itself or a second handle to it: only the latter
                    // is ours to dispose.
                    var sum = counter.add_(_one, _one);
                    if (!ReferenceEquals(sum, counter))
                    {
                        sum.Dispose();
                    }
                }
            }
            GC.KeepAlive(this);
            GC.KeepAlive(_one);
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _one.Dispose();
        }
    }
}
