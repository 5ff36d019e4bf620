namespace KdData.Hosting;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the caller's thread, serialised by a lock.
/// (<see cref="Progress{T}"/> posts to the thread pool, so reports can arrive after the work ended.)
/// </summary>
public sealed class SynchronousProgress<T> : IProgress<T>
{
    private readonly Action<T> _handler;
    private readonly Lock _gate = new();

    public SynchronousProgress(Action<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _handler = handler;
    }

    public void Report(T value)
    {
        lock (_gate)
        {
            _handler(value);
        }
    }
}
