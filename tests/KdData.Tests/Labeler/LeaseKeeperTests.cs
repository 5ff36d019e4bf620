using KdData.Dataflow;
using KdData.Labeling;
using KdData.Storage;
using KdData.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Tests.Labeler;

/// <summary>
/// The partition lease's timing on a fake clock (<see cref="ManualClock"/>, shared by the keeper and the local store's
/// leases): acquire attempts every 5 s up to the wait, a renewal every <see cref="LeaseKeeper.RenewInterval"/>, a retry every
/// <see cref="StorageOutage.ProbeInterval"/> while storage is cut off (<see cref="OutageStore"/>), and the outage limit on
/// renewals. Minutes of lease time pass in no real time.
/// </summary>
public sealed class LeaseKeeperTests : IDisposable
{
    private static readonly PartitionLayout Layout = new("teacher=t/", 0, 1);
    private static readonly TimeSpan OutageLimit = TimeSpan.FromMinutes(5);
    private readonly ManualClock _clock = new();
    private readonly string _folder;
    private readonly OutageStore _store;

    public LeaseKeeperTests() => _store = new OutageStore(TestStores.Local(out _folder, _clock));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task AcquireAsync_LeaseHeldLongerThanTheWait_AsksEveryFiveSecondsThenThrowsPartitionBusy()
    {
        Assert.NotNull(await _store.TryAcquireLeaseAsync(Layout.LeaseKey, LeaseKeeper.Duration));

        var acquiring = LeaseKeeper.AcquireAsync(_store, Layout, "t", TimeSpan.FromSeconds(12), NullLogger.Instance, _clock);

        // Asked at 0, 5 and 10 s, within the 12 s wait: each time it waits 5 s more.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal(LeaseKeeper.AcquireRetryInterval, await _clock.NextTimerAsync());
            Assert.False(acquiring.IsCompleted, $"gave up after {attempt * 5} s of a 12 s wait");
            _clock.Advance(LeaseKeeper.AcquireRetryInterval);
        }

        // Asked at 15 s: past the wait.
        var error = await Assert.ThrowsAsync<PartitionBusyException>(() => acquiring);
        Assert.Contains("still held after 12 s", error.Message, StringComparison.Ordinal);
        Assert.True(_clock.NoNewTimer);
    }

    [Fact]
    public async Task RenewAsync_TenSecondsOfFakeTime_RenewsAndTheLeaseIsKnownValidForItsFullDurationAgain()
    {
        var keeper = await AcquireAsync();
        await using var run = new StagedRun();
        using var stop = new CancellationTokenSource();
        var renewing = keeper.RenewAsync(run, OutageLimit, stop.Token);

        Assert.Equal(LeaseKeeper.RenewInterval, await _clock.NextTimerAsync());
        _clock.Advance(LeaseKeeper.RenewInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, _store.Renewals);
        Assert.Equal(LeaseKeeper.Duration - LeaseKeeper.RenewInterval + TimeSpan.FromMilliseconds(1), keeper.Lease.Remaining);

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(LeaseKeeper.RenewInterval, await _clock.NextTimerAsync());
        Assert.Equal(1, _store.Renewals);
        Assert.Equal(LeaseKeeper.Duration, keeper.Lease.Remaining);

        _clock.Advance(LeaseKeeper.RenewInterval);
        Assert.Equal(LeaseKeeper.RenewInterval, await _clock.NextTimerAsync());
        Assert.Equal(2, _store.Renewals);

        await stop.CancelAsync();
        await renewing;
        Assert.Null(run.Fault);
    }

    [Fact]
    public async Task RenewAsync_StorageCutOff_RetriesEveryTwoSecondsAndBackToTenOnceItAnswers()
    {
        var keeper = await AcquireAsync();
        await using var run = new StagedRun();
        using var stop = new CancellationTokenSource();
        var renewing = keeper.RenewAsync(run, OutageLimit, stop.Token);
        _store.Reachable = false;

        // Fails at 10 s, then again at 12, 14 and 16 s.
        await _clock.AdvanceNextTimerAsync(LeaseKeeper.RenewInterval);
        for (var retry = 0; retry < 3; retry++)
        {
            await _clock.AdvanceNextTimerAsync(StorageOutage.ProbeInterval);
        }

        Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
        Assert.Equal(4, _store.RenewalsFailed);
        Assert.Equal(0, _store.Renewals);
        Assert.Equal(LeaseKeeper.Duration - TimeSpan.FromSeconds(16), keeper.Lease.Remaining);

        // Storage answers again: renewed at the next try (18 s), then every 10 s as before.
        _store.Reachable = true;
        _clock.Advance(StorageOutage.ProbeInterval);
        Assert.Equal(LeaseKeeper.RenewInterval, await _clock.NextTimerAsync());
        Assert.Equal(1, _store.Renewals);
        Assert.Equal(LeaseKeeper.Duration, keeper.Lease.Remaining);

        await stop.CancelAsync();
        await renewing;
        Assert.Null(run.Fault);
    }

    [Fact]
    public async Task RenewAsync_StorageSilentLongerThanTheOutageLimit_FaultsTheRunWithStorageUnreachable()
    {
        var keeper = await AcquireAsync();
        await using var run = new StagedRun();
        var renewing = keeper.RenewAsync(run, TimeSpan.FromSeconds(15), CancellationToken.None);
        _store.Reachable = false;

        // The first renewal fails at 10 s; silence is counted from there. Tries at 12 ... 24 s are within the limit.
        await _clock.AdvanceNextTimerAsync(LeaseKeeper.RenewInterval);
        for (var retry = 0; retry < 7; retry++)
        {
            await _clock.AdvanceNextTimerAsync(StorageOutage.ProbeInterval);
        }

        Assert.Equal(StorageOutage.ProbeInterval, await _clock.NextTimerAsync());
        Assert.Null(run.Fault);
        Assert.False(renewing.IsCompleted);

        // At 26 s storage has been silent for 16 s, over the 15 s limit.
        _clock.Advance(StorageOutage.ProbeInterval);
        await renewing;

        var fault = Assert.IsType<StageFailedException>(run.Fault);
        Assert.Equal("lease", fault.Stage);
        var unreachable = Assert.IsType<StorageUnreachableException>(fault.InnerException);
        Assert.Contains("for 16 s (Labeler:OutageLimit is 15 s)", unreachable.Message, StringComparison.Ordinal);
        Assert.True(run.Token.IsCancellationRequested);
        Assert.Equal(9, _store.RenewalsFailed);
        Assert.True(_clock.NoNewTimer);
    }

    private Task<LeaseKeeper> AcquireAsync() => LeaseKeeper.AcquireAsync(_store, Layout, "t", TimeSpan.Zero, NullLogger.Instance, _clock);
}
