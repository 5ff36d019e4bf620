using KdData.Labeling;
using KdData.SoftTargets;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>
/// The committer's timing on a fake clock (<see cref="ManualClock"/>): <c>Labeler:CommitInterval</c> decides when pending work
/// is due, each commit records the clock's time, and the lease fence refuses a commit once the lease is known valid for less
/// than 10 s.
/// </summary>
public sealed class ShardCommitterTests : IDisposable
{
    private static readonly PartitionLayout Layout = new("teacher=t/", 0, 1);
    private static readonly TimeSpan CommitInterval = TimeSpan.FromSeconds(30);
    private readonly ManualClock _clock = new();
    private readonly string _folder;
    private readonly IObjectStore _store;
    private int _images;

    public ShardCommitterTests() => _store = TestStores.Local(out _folder, _clock);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ShouldCommit_CommitIntervalOfFakeTimePassedWithWorkPending_TrueUntilTheCommitRestartsTheInterval()
    {
        var (committer, _) = await NewCommitterAsync();

        committer.Add(FailedImage(), [], []);
        _clock.Advance(CommitInterval - TimeSpan.FromMilliseconds(1));
        Assert.False(committer.ShouldCommit);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(committer.ShouldCommit);

        await committer.CommitAsync(CancellationToken.None);
        Assert.False(committer.ShouldCommit);

        // The interval runs from the commit: work added now is due 30 s later, not at once.
        committer.Add(FailedImage(), [], []);
        Assert.False(committer.ShouldCommit);
        _clock.Advance(CommitInterval);
        Assert.True(committer.ShouldCommit);
    }

    [Fact]
    public async Task ShouldCommit_IntervalPassedWithNothingPending_False()
    {
        var (committer, _) = await NewCommitterAsync();

        _clock.Advance(CommitInterval * 3);

        Assert.False(committer.ShouldCommit);
    }

    [Fact]
    public async Task CommitAsync_LeaseKnownValidForLessThanTenSeconds_RefusesToCommit()
    {
        var (committer, lease) = await NewCommitterAsync();

        // 50 s after the lease was taken, 10 s of it are left: enough.
        committer.Add(FailedImage(), [], []);
        _clock.Advance(TimeSpan.FromSeconds(50));
        await committer.CommitAsync(CancellationToken.None);
        var committedAt = _clock.GetUtcNow();

        // A moment later, without a renewal, less than 10 s are left: the fence refuses.
        committer.Add(FailedImage(), [], []);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(lease.Remaining < TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<LeaseLostException>(() => committer.CommitAsync(CancellationToken.None));

        var manifest = PartitionManifest.Parse(await _store.ReadAllBytesAsync(Layout.ManifestKey), Layout.ManifestKey);
        var commit = Assert.Single(manifest.Commits);
        Assert.Equal(committedAt, commit.CommittedAt);
        Assert.Equal(1, committer.Commits);
        Assert.Equal(1, commit.Images);
    }

    private async Task<(ShardCommitter Committer, PartitionLease Lease)> NewCommitterAsync()
    {
        var objectLease = await _store.TryAcquireLeaseAsync(Layout.LeaseKey, LeaseKeeper.Duration);
        Assert.NotNull(objectLease);
        var lease = new PartitionLease(objectLease, LeaseKeeper.Duration, _clock);
        var options = new LabelingOptions { CommitInterval = CommitInterval };
        var manifest = new PartitionManifest { Teacher = "t", Partition = Layout.Partition, PartitionCount = Layout.Count };
        var committer = new ShardCommitter(
            _store, Layout.TeacherFolder, Layout.Tag, Layout.ManifestKey, manifest, null, new Dictionary<string, string>(), options, lease, _clock);
        return (committer, lease);
    }

    /// <summary>An image that could not be decoded: one error row, no views (no teacher needed).</summary>
    private ImageResult FailedImage()
    {
        var info = new ObjectInfo($"images/{_images++}.png", 10, "\"etag\"", _clock.GetUtcNow());
        return new ImageResult(info, [], PreparedImage.FailureRow(info, "decode", "corrupt", "not an image"));
    }
}
