using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace KdData.Dataflow;

/// <summary>
/// Runs the stages of one dataflow of channels: each stage is N workers reading one bounded channel
/// and writing the next. The first fault in any stage cancels all others and is the only error
/// reported (as <see cref="StageFailedException"/>); later failures caused by that
/// cancellation are not. When the last worker of a stage ends, its output channel is completed,
/// so completion flows downstream. Disposing cancels whatever still runs and waits for it.
/// </summary>
public sealed class StagedRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _cancellation;
    private readonly List<Task> _workers = [];
    private StageFailedException? _fault;

    /// <param name="cancellationToken">Outside cancellation (e.g. host shutdown); stops every stage.</param>
    public StagedRun(CancellationToken cancellationToken = default)
    {
        _cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
    }

    /// <summary>Cancelled when the dataflow faults, is disposed, or the outside token fires.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>The first fault, if any stage has failed.</summary>
    public StageFailedException? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Starts <paramref name="workers"/> copies of <paramref name="body"/>; <paramref name="output"/>
    /// is completed when all have ended (with the dataflow's fault, if there is one).
    /// </summary>
    public void Start<TOutput>(string stage, int workers, ChannelWriter<TOutput> output, Func<CancellationToken, Task> body)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var remaining = workers;
        for (var i = 0; i < workers; i++)
        {
            _workers.Add(Task.Run(
                async () =>
                {
                    try
                    {
                        await body(Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (Token.IsCancellationRequested)
                    {
                        // Cancelled because another stage failed or the run was stopped: not a fault of its own.
                    }
#pragma warning disable CA1031 // Any exception of a stage is captured and re-thrown once to the consumer.
                    catch (Exception e)
#pragma warning restore CA1031
                    {
                        RecordFault(stage, e);
                    }
                    finally
                    {
                        if (Interlocked.Decrement(ref remaining) == 0)
                        {
                            output.TryComplete(Fault);
                        }
                    }
                },
                CancellationToken.None));
        }
    }

    /// <summary>
    /// Reads the dataflow's last channel. Ends when it completes; throws the dataflow's first fault
    /// (never the cancellation that fault caused) or <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<T> ReadAllAsync<T>(ChannelReader<T> reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        while (true)
        {
            T? item;
            try
            {
                if (!await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                if (!reader.TryRead(out item))
                {
                    continue;
                }
            }
            catch (Exception) when (Fault is not null)
            {
                throw Fault;
            }

            yield return item;
        }

        ThrowIfFaulted();
    }

    /// <summary>Records a fault raised outside a stage body (e.g. by the consumer) and cancels the run.</summary>
    public void RecordFault(string stage, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var wrapped = exception as StageFailedException
            ?? new StageFailedException(stage, $"Pipeline stage '{stage}' failed: {exception.Message}", exception);
        if (Interlocked.CompareExchange(ref _fault, wrapped, null) is null)
        {
            _cancellation.Cancel();
        }
    }

    /// <summary>Throws the first fault, if any.</summary>
    public void ThrowIfFaulted()
    {
        if (Fault is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>Waits for every worker to end, then throws the first fault if there was one.</summary>
    public async Task CompleteAsync()
    {
        await Task.WhenAll(_workers).ConfigureAwait(false);
        ThrowIfFaulted();
    }

    public async ValueTask DisposeAsync()
    {
        await _cancellation.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Workers only end with their own faults, which are already recorded.
        }

        _cancellation.Dispose();
    }
}
