using System.Text;
using KdData.Storage;

namespace KdData.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IObjectStore"/> must have. Each backend runs this whole suite through a
/// concrete subclass that supplies a fresh, empty store.
/// </summary>
public abstract class ObjectStoreContractTests : IAsyncLifetime
{
    protected IObjectStore Store { get; private set; } = null!;

    /// <summary>A lease duration that is short enough to wait out once in the expiry test.</summary>
    protected abstract TimeSpan ShortLeaseDuration { get; }

    /// <summary>
    /// Lets the leases of <see cref="ShortLeaseDuration"/> taken just before run out. A store that keeps its leases' time
    /// itself (Azure) is waited on in real time; a store whose leases run on a fake clock has that clock moved on instead.
    /// </summary>
    protected virtual Task LetShortLeasesExpireAsync() => Task.Delay(ShortLeaseDuration + TimeSpan.FromSeconds(1.5));

    /// <summary>A lease duration that cannot expire during a test.</summary>
    protected virtual TimeSpan LongLeaseDuration => TimeSpan.FromSeconds(60);

    protected abstract Task<IObjectStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task CreateAsync_NewKey_ContentAndPropertiesReadBack()
    {
        byte[] content = Encoding.UTF8.GetBytes("hello storage");

        ObjectInfo created = await Store.CreateAsync("dir/sub/hello.txt", content);

        Assert.Equal("dir/sub/hello.txt", created.Key);
        Assert.Equal(content.Length, created.Size);
        Assert.False(string.IsNullOrEmpty(created.ETag));
        Assert.Equal(content, await Store.ReadAllBytesAsync("dir/sub/hello.txt"));
        await using (Stream stream = await Store.OpenReadAsync("dir/sub/hello.txt"))
        using (var copy = new MemoryStream())
        {
            await stream.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }

        ObjectInfo properties = await Store.GetPropertiesAsync("dir/sub/hello.txt");
        Assert.Equal(content.Length, properties.Size);
        Assert.Equal(created.ETag, properties.ETag);
    }

    [Fact]
    public async Task CreateAsync_ExistingKey_ThrowsObjectAlreadyExistsAndKeepsContent()
    {
        await Store.CreateAsync("item.bin", new byte[] { 1, 2, 3 });

        var ex = await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.CreateAsync("item.bin", new byte[] { 9 }));

        Assert.Equal("item.bin", ex.Key);
        Assert.Contains("item.bin", ex.Message, StringComparison.Ordinal);
        Assert.Equal(new byte[] { 1, 2, 3 }, await Store.ReadAllBytesAsync("item.bin"));
    }

    [Fact]
    public async Task CreateOrConfirmAsync_ExistingKeyWithSameBytes_ReturnsItsProperties()
    {
        ObjectInfo first = await Store.CreateAsync("own.bin", new byte[] { 1, 2, 3 });

        ObjectInfo again = await Store.CreateOrConfirmAsync("own.bin", new byte[] { 1, 2, 3 });

        Assert.Equal(first.ETag, again.ETag);
        Assert.Equal(3, again.Size);
    }

    [Theory]
    [InlineData(new byte[] { 1, 2, 4 })]
    [InlineData(new byte[] { 1, 2 })]
    public async Task CreateOrConfirmAsync_ExistingKeyWithOtherBytes_ThrowsObjectAlreadyExistsAndKeepsContent(byte[] mine)
    {
        await Store.CreateAsync("theirs.bin", new byte[] { 1, 2, 3 });

        var ex = await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => Store.CreateOrConfirmAsync("theirs.bin", mine));

        Assert.Equal("theirs.bin", ex.Key);
        Assert.Equal(new byte[] { 1, 2, 3 }, await Store.ReadAllBytesAsync("theirs.bin"));
    }

    [Fact]
    public async Task CreateOrConfirmAsync_NewKey_Creates()
    {
        ObjectInfo created = await Store.CreateOrConfirmAsync("new.bin", new byte[] { 5 });

        Assert.Equal(1, created.Size);
        Assert.Equal(new byte[] { 5 }, await Store.ReadAllBytesAsync("new.bin"));
    }

    [Fact]
    public async Task CreateOrReplaceLeftoverAsync_ExistingKeyWithOtherBytes_ReplacesIt()
    {
        await Store.CreateAsync("leftover.bin", new byte[] { 9, 9, 9, 9 });

        ObjectInfo written = await Store.CreateOrReplaceLeftoverAsync("leftover.bin", new byte[] { 1, 2 });

        Assert.Equal(2, written.Size);
        Assert.Equal(new byte[] { 1, 2 }, await Store.ReadAllBytesAsync("leftover.bin"));
        Assert.Equal(written.ETag, (await Store.GetPropertiesAsync("leftover.bin")).ETag);
    }

    [Fact]
    public async Task CreateAsync_StreamWithOffset_WritesFromCurrentPosition()
    {
        using var stream = new MemoryStream([0, 0, 7, 8, 9]);
        stream.Position = 2;

        ObjectInfo created = await Store.CreateAsync("offset.bin", stream);

        Assert.Equal(3, created.Size);
        Assert.Equal(new byte[] { 7, 8, 9 }, await Store.ReadAllBytesAsync("offset.bin"));
    }

    [Fact]
    public async Task ReplaceAsync_CurrentETag_ReplacesContentAndChangesETag()
    {
        ObjectInfo first = await Store.CreateAsync("manifest.json", Encoding.UTF8.GetBytes("{\"v\":1}"));

        // Same length on purpose: the ETag must change even when the size does not.
        ObjectInfo second = await Store.ReplaceAsync("manifest.json", Encoding.UTF8.GetBytes("{\"v\":2}"), first.ETag);

        Assert.NotEqual(first.ETag, second.ETag);
        Assert.Equal("{\"v\":2}", Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("manifest.json")));
        Assert.Equal(second.ETag, (await Store.GetPropertiesAsync("manifest.json")).ETag);
    }

    [Fact]
    public async Task ReplaceAsync_StaleETag_ThrowsObjectChangedAndKeepsNewerContent()
    {
        ObjectInfo first = await Store.CreateAsync("manifest.json", Encoding.UTF8.GetBytes("v1"));
        await Store.ReplaceAsync("manifest.json", Encoding.UTF8.GetBytes("v2"), first.ETag);

        var ex = await Assert.ThrowsAsync<ObjectChangedException>(
            () => Store.ReplaceAsync("manifest.json", Encoding.UTF8.GetBytes("v3"), first.ETag));

        Assert.Equal("manifest.json", ex.Key);
        Assert.Equal("v2", Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("manifest.json")));
    }

    [Fact]
    public async Task ReplaceAsync_MissingKey_ThrowsObjectChanged()
    {
        ObjectInfo created = await Store.CreateAsync("gone.json", new byte[] { 1 });
        await Store.DeleteAsync("gone.json");

        await Assert.ThrowsAsync<ObjectChangedException>(() => Store.ReplaceAsync("gone.json", new byte[] { 2 }, created.ETag));
    }

    [Fact]
    public async Task ReplaceAsync_ConcurrentWritersWithSameETag_ExactlyOneWins()
    {
        ObjectInfo start = await Store.CreateAsync("counter", Encoding.UTF8.GetBytes("0"));
        const int Writers = 6;

        Task<ObjectInfo>[] attempts = Enumerable.Range(1, Writers)
            .Select(i => Task.Run(() => Store.ReplaceAsync("counter", Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), start.ETag)))
            .ToArray();
        try
        {
            await Task.WhenAll(attempts);
        }
        catch (ObjectChangedException)
        {
            // Expected for the losers; checked below.
        }

        Assert.Equal(1, attempts.Count(t => t.IsCompletedSuccessfully));
        Assert.Equal(Writers - 1, attempts.Count(t => t.Exception?.InnerException is ObjectChangedException));
        string winner = Encoding.UTF8.GetString(await Store.ReadAllBytesAsync("counter"));
        int winnerIndex = Array.FindIndex(attempts, t => t.IsCompletedSuccessfully) + 1;
        Assert.Equal(winnerIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), winner);
    }

    [Fact]
    public async Task ListAsync_SmallPages_ReturnsEveryKeyOnceInOrdinalOrder()
    {
        // Mixed case and digits so ordinal order differs from culture-aware order. No key is also a
        // "folder" of another key: a local folder cannot hold both 'x' and 'x/...'.
        string[] keys = ["b/2", "a", "B", "b/10", "c.txt", "a0", "Z/1", "b/1", "c", "_x", "a0x/b/c"];
        foreach (string key in keys)
        {
            await Store.CreateAsync(key, Encoding.UTF8.GetBytes(key));
        }

        var listed = new List<ObjectInfo>();
        string? token = null;
        int pages = 0;
        do
        {
            ObjectPage page = await Store.ListAsync("", 3, token);
            Assert.True(page.Items.Count <= 3, $"page of {page.Items.Count} items exceeds the page size");
            listed.AddRange(page.Items);
            token = page.ContinuationToken;
            pages++;
            Assert.True(pages <= keys.Length + 1, "listing does not terminate");
        }
        while (token is not null);

        string[] expected = keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, listed.Select(i => i.Key).ToArray());
        Assert.True(pages >= 4, $"expected several pages, got {pages}");
        Assert.All(listed, i => Assert.Equal(Encoding.UTF8.GetByteCount(i.Key), i.Size));
        Assert.All(listed, i => Assert.False(string.IsNullOrEmpty(i.ETag)));
        Assert.Equal((await Store.GetPropertiesAsync(listed[0].Key)).ETag, listed[0].ETag);
    }

    [Fact]
    public async Task ListAllAsync_SmallPageSize_YieldsEveryObjectUnderThePrefix()
    {
        string[] keys = Enumerable.Range(0, 10).Select(i => $"set/item-{i:D2}").ToArray();
        foreach (string key in keys)
        {
            await Store.CreateAsync(key, new byte[] { 1 });
        }

        await Store.CreateAsync("other/item", new byte[] { 1 });

        var listed = new List<string>();
        await foreach (ObjectInfo item in Store.ListAllAsync("set/", pageSize: 3))
        {
            listed.Add(item.Key);
        }

        Assert.Equal(keys, listed);
    }

    [Fact]
    public async Task ListAsync_SubPrefix_ReturnsOnlyMatchingKeys()
    {
        foreach (string key in new[] { "a/1", "a/2", "a/deep/3", "ab/4", "b/5" })
        {
            await Store.CreateAsync(key, new byte[] { 1 });
        }

        ObjectPage folder = await Store.ListAsync("a/", 100, null);
        ObjectPage stringPrefix = await Store.ListAsync("a", 100, null);
        ObjectPage none = await Store.ListAsync("zzz/", 100, null);

        Assert.Equal(["a/1", "a/2", "a/deep/3"], folder.Items.Select(i => i.Key).ToArray());
        Assert.Equal(["a/1", "a/2", "a/deep/3", "ab/4"], stringPrefix.Items.Select(i => i.Key).ToArray());
        Assert.Empty(none.Items);
        Assert.Null(none.ContinuationToken);
    }

    [Fact]
    public async Task ListAsync_EmptyStore_ReturnsEmptyPage()
    {
        ObjectPage page = await Store.ListAsync("", 10, null);

        Assert.Empty(page.Items);
        Assert.Null(page.ContinuationToken);
    }

    [Fact]
    public async Task ReadAllBytesAsync_MissingKey_ThrowsObjectNotFound()
    {
        var ex = await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.ReadAllBytesAsync("missing/file.bin"));

        Assert.Equal("missing/file.bin", ex.Key);
        Assert.Contains("missing/file.bin", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenReadAsync("missing/file.bin"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.GetPropertiesAsync("missing/file.bin"));
    }

    [Fact]
    public async Task OpenRandomAccessAsync_ListedVersion_SeeksAndReadsRangesAndRefusesOtherVersions()
    {
        var content = new byte[10_000];
        new Random(4).NextBytes(content);
        var created = await Store.CreateAsync("packed/table.parquet", content);

        await using (var stream = await Store.OpenRandomAccessAsync("packed/table.parquet", created.ETag))
        {
            Assert.True(stream.CanSeek);
            Assert.Equal(content.Length, stream.Length);
            var tail = new byte[100];
            stream.Seek(-100, SeekOrigin.End);
            await stream.ReadExactlyAsync(tail);
            Assert.Equal(content[^100..], tail);
            var middle = new byte[50];
            stream.Position = 4_000;
            await stream.ReadExactlyAsync(middle);
            Assert.Equal(content[4_000..4_050], middle);
        }

        await using (var unpinned = await Store.OpenRandomAccessAsync("packed/table.parquet", null))
        {
            Assert.Equal(content.Length, unpinned.Length);
        }

        var replaced = await Store.ReplaceAsync("packed/table.parquet", new byte[] { 1, 2, 3 }, created.ETag);
        await Assert.ThrowsAsync<ObjectChangedException>(() => Store.OpenRandomAccessAsync("packed/table.parquet", created.ETag));
        await Assert.ThrowsAsync<ObjectChangedException>(() => Store.OpenRandomAccessAsync("packed/missing.parquet", replaced.ETag));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.OpenRandomAccessAsync("packed/missing.parquet", null));
        await using var current = await Store.OpenRandomAccessAsync("packed/table.parquet", replaced.ETag);
        Assert.Equal(3, current.Length);
    }

    [Fact]
    public async Task DeleteAsync_ExistingKey_RemovesItOnce()
    {
        await Store.CreateAsync("to-delete", new byte[] { 1 });

        Assert.True(await Store.DeleteAsync("to-delete"));
        Assert.False(await Store.DeleteAsync("to-delete"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => Store.ReadAllBytesAsync("to-delete"));
        Assert.Empty((await Store.ListAsync("", 10, null)).Items);

        // The key can be created again after the delete.
        await Store.CreateAsync("to-delete", new byte[] { 2 });
        Assert.Equal(new byte[] { 2 }, await Store.ReadAllBytesAsync("to-delete"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("a/./b")]
    [InlineData("..")]
    [InlineData("/etc/passwd")]
    [InlineData("C:/windows")]
    [InlineData("a\\..\\b")]
    [InlineData("a//b")]
    [InlineData("a/")]
    [InlineData("")]
    [InlineData("a\0b")]
    [InlineData("line\nbreak")]
    [InlineData(".kddata/x")]
    public async Task AllOperations_InvalidKey_ThrowInvalidObjectKeyNamingTheKey(string key)
    {
        var create = await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.CreateAsync(key, new byte[] { 1 }));
        Assert.Equal(key, create.Key);
        Assert.StartsWith("Invalid object key '", create.Message, StringComparison.Ordinal);

        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.ReadAllBytesAsync(key));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.ReplaceAsync(key, new byte[] { 1 }, "\"etag\""));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.GetPropertiesAsync(key));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.DeleteAsync(key));
        await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.TryAcquireLeaseAsync(key, LongLeaseDuration));
        Assert.Empty((await Store.ListAsync("", 10, null)).Items);
    }

    [Theory]
    [InlineData("../")]
    [InlineData("/abs/")]
    [InlineData("a//")]
    public async Task ListAsync_InvalidPrefix_ThrowsInvalidObjectKey(string prefix)
    {
        var ex = await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.ListAsync(prefix, 10, null));

        Assert.Equal(prefix, ex.Key);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_MissingKey_CreatesEmptyMarkerAndLeasesIt()
    {
        ObjectLease? lease = await Store.TryAcquireLeaseAsync("claims/shard-0001", LongLeaseDuration);

        Assert.NotNull(lease);
        Assert.Equal("claims/shard-0001", lease.Key);
        Assert.Equal(0, (await Store.GetPropertiesAsync("claims/shard-0001")).Size);
        Assert.True(await Store.ReleaseLeaseAsync(lease));
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_HeldByAnother_ReturnsNull()
    {
        ObjectLease? first = await Store.TryAcquireLeaseAsync("claims/a", LongLeaseDuration);

        ObjectLease? second = await Store.TryAcquireLeaseAsync("claims/a", LongLeaseDuration);
        ObjectLease? other = await Store.TryAcquireLeaseAsync("claims/b", LongLeaseDuration);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(other);
        await Store.ReleaseLeaseAsync(first);
        await Store.ReleaseLeaseAsync(other);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_ConcurrentClaimers_ExactlyOneWins()
    {
        ObjectLease?[] results = await Task.WhenAll(Enumerable.Range(0, 5)
            .Select(_ => Task.Run(() => Store.TryAcquireLeaseAsync("claims/race", LongLeaseDuration))));

        ObjectLease winner = Assert.Single(results, r => r is not null)!;
        await Store.ReleaseLeaseAsync(winner);
    }

    [Fact]
    public async Task ReleaseLeaseAsync_ThenAcquire_NewHolderGetsIt()
    {
        ObjectLease first = (await Store.TryAcquireLeaseAsync("claims/c", LongLeaseDuration))!;

        Assert.True(await Store.ReleaseLeaseAsync(first));
        ObjectLease? second = await Store.TryAcquireLeaseAsync("claims/c", LongLeaseDuration);

        Assert.NotNull(second);
        Assert.NotEqual(first.LeaseId, second.LeaseId);
        Assert.False(await Store.ReleaseLeaseAsync(first));
        await Assert.ThrowsAsync<LeaseLostException>(() => Store.RenewLeaseAsync(first));
        Assert.True(await Store.ReleaseLeaseAsync(second));
    }

    [Fact]
    public async Task RenewLeaseAsync_HeldLease_SucceedsAndStillExcludesOthers()
    {
        ObjectLease lease = (await Store.TryAcquireLeaseAsync("claims/d", LongLeaseDuration))!;

        ObjectLease renewed = await Store.RenewLeaseAsync(lease);

        Assert.Equal(lease.LeaseId, renewed.LeaseId);
        Assert.Null(await Store.TryAcquireLeaseAsync("claims/d", LongLeaseDuration));
        await Store.ReleaseLeaseAsync(renewed);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_AfterExpiry_TakesOverAndOldHolderCannotRenewButAnUntakenLeaseRenews()
    {
        ObjectLease old = (await Store.TryAcquireLeaseAsync("claims/e", ShortLeaseDuration))!;
        ObjectLease untaken = (await Store.TryAcquireLeaseAsync("claims/f", ShortLeaseDuration))!;
        Assert.Null(await Store.TryAcquireLeaseAsync("claims/e", ShortLeaseDuration));

        // Let the short leases run out (the one deliberate wait of the suite, on a backend that keeps its leases' time).
        await LetShortLeasesExpireAsync();
        ObjectLease? taker = await Store.TryAcquireLeaseAsync("claims/e", LongLeaseDuration);

        Assert.NotNull(taker);
        var ex = await Assert.ThrowsAsync<LeaseLostException>(() => Store.RenewLeaseAsync(old));
        Assert.Equal("claims/e", ex.Key);
        Assert.False(await Store.ReleaseLeaseAsync(old));
        Assert.Null(await Store.TryAcquireLeaseAsync("claims/e", LongLeaseDuration));
        Assert.True(await Store.ReleaseLeaseAsync(taker));

        // Expired but taken by nobody: the holder renews it (what a Labeler does after an outage longer than its lease),
        // and it excludes others again.
        ObjectLease renewed = await Store.RenewLeaseAsync(untaken);
        Assert.Equal(untaken.LeaseId, renewed.LeaseId);
        Assert.Null(await Store.TryAcquireLeaseAsync("claims/f", ShortLeaseDuration));
        Assert.True(await Store.ReleaseLeaseAsync(renewed));
    }

    [Fact]
    public async Task ProbeAsync_StoreUpEvenWithoutItsRoot_Answers()
    {
        Assert.True(await Store.ProbeAsync());
        await Store.CreateAsync("probe/a", new byte[] { 1 });
        Assert.True(await Store.ProbeAsync());
    }
}
