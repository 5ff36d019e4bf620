namespace KdData.Tests.Training;

/// <summary>An <see cref="IProgress{T}"/> that calls back synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class CallbackProgress<T>(Action<T> callback) : IProgress<T>
{
    public void Report(T value) => callback(value);
}
