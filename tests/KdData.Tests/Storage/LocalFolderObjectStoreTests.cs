using KdData.Storage;
using KdData.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Storage;

/// <summary>The contract suite on a local temp folder, plus local-only behaviour. The store's leases expire on a fake clock.</summary>
public sealed class LocalFolderObjectStoreTests : ObjectStoreContractTests
{
    private readonly string _parent = Path.Combine(Path.GetTempPath(), "kddata-store-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _clock = new();

    private string Root => Path.Combine(_parent, "root");

    protected override TimeSpan ShortLeaseDuration => TimeSpan.FromSeconds(1.5);

    protected override Task<IObjectStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(Root);
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { BaseDirectory = _parent }), timeProvider: _clock);
        return Task.FromResult(factory.Open("file:root/"));
    }

    /// <summary>The leases' expiry is written and checked on the fake clock: moving it on is what waiting would do.</summary>
    protected override Task LetShortLeasesExpireAsync()
    {
        _clock.Advance(ShortLeaseDuration + TimeSpan.FromSeconds(1.5));
        return Task.CompletedTask;
    }

    public override Task DisposeAsync()
    {
        if (Directory.Exists(_parent))
        {
            Directory.Delete(_parent, recursive: true);
        }

        return Task.CompletedTask;
    }

    [Fact]
    public void Open_RelativeFileLocation_IsRootedUnderBaseDirectory()
    {
        Assert.Equal(StorageLocationKind.LocalFolder, Store.Location.Kind);
        Assert.Equal(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, Store.Location.LocalPath);
    }

    [Fact]
    public async Task CreateAsync_Key_WritesTheFileUnderTheRoot()
    {
        await Store.CreateAsync("x/y.bin", new byte[] { 4, 2 });

        Assert.Equal(new byte[] { 4, 2 }, await File.ReadAllBytesAsync(Path.Combine(Root, "x", "y.bin")));
    }

    [Fact]
    public async Task CreateAsync_TraversalKeys_WriteNothingOutsideTheRoot()
    {
        foreach (string key in new[] { "../escape", "a/../../escape", "/escape" })
        {
            await Assert.ThrowsAsync<InvalidObjectKeyException>(() => Store.CreateAsync(key, new byte[] { 1 }));
        }

        Assert.Equal(["root"], Directory.GetFileSystemEntries(_parent).Select(p => Path.GetFileName(p)).ToArray());
        Assert.False(File.Exists("/escape"));
    }

    [Fact]
    public async Task ListAsync_InternalTempLockAndLeaseFiles_AreNeverListed()
    {
        await Store.CreateAsync("data/a.bin", new byte[] { 1 });
        ObjectLease lease = (await Store.TryAcquireLeaseAsync("data/b.claim", TimeSpan.FromMinutes(1)))!;

        // A temp file left behind by a crashed writer, and a user dot-file that is an ordinary object.
        await File.WriteAllBytesAsync(Path.Combine(Root, "data", ".kddata", "c.bin.0123.tmp"), [1, 2, 3]);
        await File.WriteAllBytesAsync(Path.Combine(Root, "data", ".hidden"), [5]);

        string[] keys = (await Store.ListAsync("", 100, null)).Items.Select(i => i.Key).ToArray();

        Assert.Equal(["data/.hidden", "data/a.bin", "data/b.claim"], keys);
        Assert.True(Directory.Exists(Path.Combine(Root, "data", ".kddata")));
        await Store.ReleaseLeaseAsync(lease);
    }

    [Fact]
    public async Task ReplaceAsync_ExternalEditAfterRead_IsDetected()
    {
        ObjectInfo read = await Store.CreateAsync("m.json", new byte[] { 1, 2 });

        // Another program rewrites the file directly (same size).
        string path = Path.Combine(Root, "m.json");
        await File.WriteAllBytesAsync(path, [3, 4]);
        File.SetLastWriteTimeUtc(path, read.LastModified.UtcDateTime.AddSeconds(1));

        await Assert.ThrowsAsync<ObjectChangedException>(() => Store.ReplaceAsync("m.json", new byte[] { 5, 6 }, read.ETag));
    }

    [Fact]
    public async Task CreateAsync_NonSeekableStream_ThrowsArgumentException()
    {
        using var pipe = new System.IO.Pipes.AnonymousPipeServerStream();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Store.CreateAsync("pipe.bin", pipe));

        Assert.Equal("content", ex.ParamName);
    }

    [Fact]
    public async Task CreateAsync_KeyBelowAnExistingObject_ThrowsClearError()
    {
        await Store.CreateAsync("a", new byte[] { 1 });

        var ex = await Assert.ThrowsAsync<StorageOperationException>(() => Store.CreateAsync("a/b", new byte[] { 2 }));

        Assert.Equal("a/b", ex.Key);
        Assert.Contains("cannot hold both", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListAsync_RootFolderMissing_ThrowsStoreNotFoundUntilTheFirstWriteCreatesIt()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { BaseDirectory = _parent }));
        IObjectStore store = factory.Open("file:not-yet/");

        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.ListAsync("", 10, null));
        await store.CreateAsync("x/a.bin", new byte[] { 1 });

        Assert.Equal(["x/a.bin"], (await store.ListAsync("", 10, null)).Items.Select(i => i.Key));
        Assert.Empty((await store.ListAsync("y/", 10, null)).Items);
    }
}
