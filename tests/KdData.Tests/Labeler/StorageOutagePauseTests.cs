using KdData.Labeling;
using KdData.Storage;
using KdData.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Tests.Labeler;

/// <summary>
/// How a stage pauses during a storage outage (<see cref="StorageOutage.WaitUntilReachableAsync"/>), on a fake clock shared
/// with the local store's leases: a probe every 2 s, resuming at the first probe that gets an answer, giving up after
/// <c>Labeler:OutageLimit</c>, and after an outage longer than the lease renewing it, or finding it taken. The same outages
/// against a real Azurite, in real time, are <see cref="StorageOutageTests"/>.
/// </summary>
public sealed class StorageOutagePauseTests : IDisposable
{
    private static readonly PartitionLayout Layout = new("teacher=t/", 0, 1);
    private readonly ManualClock _clock = new();
    private readonly string _folder;
    private readonly IObjectStore _inner;
    private readonly OutageStore _store;
    private LeaseKeeper? _keeper;

    public StorageOutagePauseTests()
    {
        _inner = TestStores.Local(out _folder, _clock);
        _store = new OutageStore(_inner);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task WaitUntilReachableAsync_StorageAnswers_ReturnsFalseAtOnce()
    {
        var outage = await NewOutageAsync(TimeSpan.FromMinutes(5));

        Assert.False(await outage.WaitUntilReachableAsync(_store, "fetch"));

        Assert.Equal(1, _store.Probes);
        Assert.True(_clock.NoNewTimer);
    }

    [Fact]
    public async Task WaitUntilReachableAsync_StorageBackWithinTheLimit_ProbesEveryTwoSecondsAndResumesAtTheFirstAnswer()
    {
        var outage = await NewOutageAsync(TimeSpan.FromMinutes(5));
        _store.Reachable = false;

        var waiting = outage.WaitUntilReachableAsync(_store, "fetch");
        for (var probe = 0; probe < 3; probe++)
        {
            Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
            Assert.False(waiting.IsCompleted);
            _clock.Advance(StorageOutage.ProbeInterval);
        }

        // Probed at 0, 2, 4 and 6 s; storage answers before the probe at 8 s.
        Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
        Assert.Equal(4, _store.Probes);
        _store.Reachable = true;
        _clock.Advance(StorageOutage.ProbeInterval);

        Assert.True(await waiting);
        Assert.Equal(5, _store.Probes);
        Assert.Equal(0, _store.Renewals); // 52 s of the lease left: no renewal needed
        Assert.True(_clock.NoNewTimer);
    }

    [Fact]
    public async Task WaitUntilReachableAsync_StorageSilentLongerThanTheOutageLimit_ThrowsStorageUnreachableAfterTheLimit()
    {
        var outage = await NewOutageAsync(TimeSpan.FromSeconds(15));
        _store.Reachable = false;

        var waiting = outage.WaitUntilReachableAsync(_store, "list");
        // Probes at 2 ... 14 s go unanswered within the limit.
        for (var probe = 0; probe < 7; probe++)
        {
            await _clock.AdvanceNextTimerAsync(StorageOutage.ProbeInterval);
        }

        Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
        Assert.False(waiting.IsCompleted);
        _clock.Advance(StorageOutage.ProbeInterval);

        // 16 s paused: over the limit.
        var error = await Assert.ThrowsAsync<StorageUnreachableException>(() => waiting);
        Assert.Contains("unreachable for 16 s (Labeler:OutageLimit is 15 s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(9, _store.Probes);
        Assert.True(_clock.NoNewTimer);
    }

    [Fact]
    public async Task WaitUntilReachableAsync_OutageLongerThanTheLease_RenewsTheExpiredLeaseBeforeResuming()
    {
        var outage = await NewOutageAsync(TimeSpan.FromMinutes(5));
        _store.Reachable = false;

        var waiting = await PauseForAsync(outage, TimeSpan.FromSeconds(70));
        Assert.True(_keeper!.Lease.Remaining < TimeSpan.Zero);

        // 70 s without storage: the lease ran out at 60 s (on the store's clock too), and nobody took it.
        _store.Reachable = true;
        _clock.Advance(StorageOutage.ProbeInterval);

        Assert.True(await waiting);
        Assert.Equal(1, _store.Renewals);
        Assert.Equal(LeaseKeeper.Duration, _keeper.Lease.Remaining);
        Assert.Null(await _inner.TryAcquireLeaseAsync(Layout.LeaseKey, LeaseKeeper.Duration)); // it excludes others again
    }

    [Fact]
    public async Task WaitUntilReachableAsync_LeaseTakenDuringAnOutageLongerThanTheLease_ThrowsLeaseLost()
    {
        var outage = await NewOutageAsync(TimeSpan.FromMinutes(5));
        _store.Reachable = false;

        var waiting = await PauseForAsync(outage, TimeSpan.FromSeconds(64));

        // Another replica, which still reaches storage, takes the expired lease.
        Assert.NotNull(await _inner.TryAcquireLeaseAsync(Layout.LeaseKey, LeaseKeeper.Duration));
        _store.Reachable = true;
        _clock.Advance(StorageOutage.ProbeInterval);

        await Assert.ThrowsAsync<LeaseLostException>(() => waiting);
        Assert.Equal(0, _store.Renewals);
    }

    private async Task<StorageOutage> NewOutageAsync(TimeSpan outageLimit)
    {
        _keeper = await LeaseKeeper.AcquireAsync(_store, Layout, "t", TimeSpan.Zero, NullLogger.Instance, _clock);
        return new StorageOutage(_keeper, outageLimit, NullLogger.Instance, _clock);
    }

    /// <summary>Starts a pause and moves the clock on by <paramref name="length"/>, one unanswered probe every 2 s.</summary>
    private async Task<Task<bool>> PauseForAsync(StorageOutage outage, TimeSpan length)
    {
        var waiting = outage.WaitUntilReachableAsync(_store, "commit");
        for (var paused = TimeSpan.Zero; paused < length; paused += StorageOutage.ProbeInterval)
        {
            await _clock.AdvanceNextTimerAsync(StorageOutage.ProbeInterval);
            Assert.False(waiting.IsCompleted);
        }

        // The next probe is due.
        Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
        return waiting;
    }
}
