using KdData.Hosting;
using KdData.PackedImages;
using KdData.Storage;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Training;

/// <summary><see cref="ImageByteCache"/> on member keys of packed shards: unpacking once (to disk or memory), reuse, versions, and keys that do not resolve.</summary>
public sealed class ImageByteCachePackedTests : IDisposable
{
    private readonly TempDirectory _work = new();
    private readonly IObjectStore _store;

    public ImageByteCachePackedTests() => _store = TestStores.Factory().Open(StorageLocation.ForLocalFolder(Path.Combine(_work.Path, "store")));

    private string CacheFolder => Path.Combine(_work.Path, "cache");

    public void Dispose() => _work.Dispose();

    private static byte[] Image(int index, int size = 3) => [.. Enumerable.Range(0, size).Select(i => (byte)(index + i))];

    /// <summary>Writes a shard of <paramref name="count"/> images (source indexes 10, 11, ...) and returns the image keys.</summary>
    private async Task<IReadOnlyList<string>> WriteShardAsync(string key, int count, int size = 3)
    {
        var images = Enumerable.Range(0, count).Select(i => new PackedImage(10 + i, Image(i, size), i % 2)).ToList();
        using var buffer = new MemoryStream();
        var names = key.EndsWith(".tar", StringComparison.Ordinal)
            ? await TarImageArchiveWriter.WriteAsync(buffer, images, withLabels: true)
            : await ParquetImageTableWriter.WriteAsync(buffer, images, withLabels: true, rowGroupSize: 2);
        await _store.CreateAsync(key, buffer.ToArray());
        return [.. names.Select(n => PackedFormats.MemberKey(key, n))];
    }

    [Theory]
    [InlineData("train/part-00000.parquet", true)]
    [InlineData("train/part-00000.parquet", false)]
    [InlineData("train/part-00000.tar", true)]
    [InlineData("train/part-00000.tar", false)]
    public async Task GetAsync_MemberKeysInAnyOrder_ReturnEachMembersBytes(string shard, bool onDisk)
    {
        var keys = await WriteShardAsync(shard, 5);
        var cache = ImageByteCache.ForStore(_store, onDisk ? CacheFolder : null);

        int[] order = [3, 0, 4, 1, 2];
        var bytes = new List<byte[]>();
        foreach (var i in order)
        {
            bytes.Add(await cache.GetAsync(keys[i]));
        }

        Assert.Equal(order.Select(i => Image(i)), bytes);
        Assert.Equal(keys, await cache.ListMembersAsync(shard));
        Assert.Equal(onDisk, Directory.Exists(CacheFolder));
        Assert.Equal(shard.EndsWith(".tar", StringComparison.Ordinal) ? "train/part-00000.tar#00012.png" : "train/part-00000.parquet#2", keys[2]);
    }

    [Theory]
    [InlineData("test/part-00000.parquet", "test/part-00000.parquet#7", "row 7", "5 rows (0 to 4)")]
    [InlineData("test/part-00000.tar", "test/part-00000.tar#00099.png", "member '00099.png'", "no such member (5 images)")]
    public async Task PrepareAsync_KeyNamingAMissingRow_ThrowsNamingTheKeyAndTheShard(string shard, string bad, string what, string holds)
    {
        var keys = await WriteShardAsync(shard, 5);
        var cache = ImageByteCache.ForStore(_store, CacheFolder);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() => cache.PrepareAsync([.. keys, bad]));
        var atRead = await Assert.ThrowsAsync<InvalidInputException>(() => cache.GetAsync(bad));

        Assert.StartsWith($"Image key '{bad}' names {what} of '{_store.Location}{shard}', which has {holds}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{bad}'", atRead.Message, StringComparison.Ordinal);
        Assert.Equal(Image(4), await cache.GetAsync(keys[4]));
    }

    [Fact]
    public async Task PrepareAsync_KeysOfAMissingShard_ThrowsNamingTheFirstKeyAndCountingTheRest()
    {
        await WriteShardAsync("train/part-00000.parquet", 2);
        var cache = ImageByteCache.ForStore(_store, CacheFolder);

        var error = await Assert.ThrowsAsync<InvalidInputException>(() =>
            cache.PrepareAsync(["train/part-00000.parquet#1", "train/part-00009.parquet#0", "train/part-00009.parquet#1", "train/loose.png"]));

        Assert.Contains($"'train/part-00009.parquet#0' names shard '{_store.Location}train/part-00009.parquet', which does not exist", error.Message, StringComparison.Ordinal);
        Assert.Contains("1 more image keys", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => cache.GetAsync("train/part-00009.parquet#0"));
    }

    [Fact]
    public async Task PrepareAsync_SecondCacheOnTheSameFolder_ReusesTheUnpackedShard_ANewVersionIsUnpackedAnew()
    {
        const string shard = "train/part-00000.parquet";
        var keys = await WriteShardAsync(shard, 4);
        await ImageByteCache.ForStore(_store, CacheFolder).PrepareAsync(keys);
        var files = Directory.GetFiles(CacheFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var written = files.Select(File.GetLastWriteTimeUtc).ToList();

        await Task.Delay(50);
        var again = ImageByteCache.ForStore(_store, CacheFolder);
        await again.PrepareAsync(keys);

        Assert.Equal(2, files.Count); // one data file, one index
        Assert.Equal(files, Directory.GetFiles(CacheFolder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        Assert.Equal(written, files.Select(File.GetLastWriteTimeUtc));
        Assert.Equal(Image(3), await again.GetAsync(keys[3]));

        // Re-imported under the same name with other images: another ETag, so never served from the old unpacking.
        await _store.DeleteAsync(shard);
        await WriteShardAsync(shard, 4, size: 6);
        var fresh = ImageByteCache.ForStore(_store, CacheFolder);
        await fresh.PrepareAsync(keys);

        Assert.Equal(Image(3, 6), await fresh.GetAsync(keys[3]));
        Assert.Equal(4, Directory.GetFiles(CacheFolder, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task GetAsync_RowWithoutImage_ReturnsEmptyBytesSoTheDecoderSkipsIt()
    {
        var path = Path.Combine(_work.Path, "store", "nulls.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var duckdb = await DuckDbRunner.GetAsync();
        await duckdb.QueryAsync($"COPY (SELECT CASE WHEN i = 1 THEN NULL ELSE 'x'::BLOB END AS image FROM range(3) t(i)) TO {DuckDbRunner.Literal(path)} (FORMAT parquet)");
        var cache = ImageByteCache.ForStore(_store, CacheFolder);

        await cache.PrepareAsync(["nulls.parquet#0", "nulls.parquet#1", "nulls.parquet#2"]);

        Assert.Empty(await cache.GetAsync("nulls.parquet#1"));
        Assert.Equal("x"u8.ToArray(), await cache.GetAsync("nulls.parquet#2"));
    }
}
