using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace KdData.Tests.Fixtures;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells a test when the code under test starts to wait: every timer created
/// on it (a <c>Task.Delay</c> on this clock creates one) is reported, with its due time, by <see cref="NextTimerAsync"/>.
/// A test moves time on exactly when the code is waiting, and by exactly as much as it waits, instead of sleeping.
/// </summary>
public sealed class ManualClock : FakeTimeProvider
{
    /// <summary>Real time a test gives the code to start its next wait (loading a teacher, a busy machine) before failing.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        // Reported once the timer is registered, so advancing the clock from here fires it.
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The due time of the next timer created, in order of creation (each timer is reported once).</summary>
    /// <exception cref="TimeoutException">No timer was created within two minutes of real time.</exception>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var patience = new CancellationTokenSource(Patience);
        try
        {
            return await _timers.Reader.ReadAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The code under test started no wait on the fake clock within {Patience.TotalSeconds:F0} s.");
        }
    }

    /// <summary>Waits for the next timer, asserts that it waits <paramref name="expected"/>, and moves the clock on by exactly that (firing it).</summary>
    public async Task AdvanceNextTimerAsync(TimeSpan expected)
    {
        Assert.Equal(expected, await NextTimerAsync());
        Advance(expected);
    }

    /// <summary>True when no timer was created since the last one reported (the code under test has not started another wait).</summary>
    public bool NoNewTimer => !_timers.Reader.TryPeek(out _);
}
