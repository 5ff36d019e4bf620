using KdData.Distillation;
using KdData.Hosting;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Distillation;

/// <summary><see cref="ShardSetReader"/> on Azure Blob Storage (Azurite): listing, manifests, footers' image roots as URLs.</summary>
[Trait("Category", "Slow")]
[Collection(AzuriteCollectionDefinition.Name)]
public sealed class AzuriteShardSetReaderTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ObjectStoreFactory _factory = TestStores.Factory(azurite.ConnectionString);
    private string _container = null!;

    public async Task InitializeAsync() => _container = await azurite.CreateContainerAsync();

    public Task DisposeAsync() => azurite.DeleteContainerAsync(_container);

    [Fact]
    public async Task ReadAsync_AzureOutput_LatestCommittedRowsWithFetchableImages()
    {
        var images = _factory.Open($"{azurite.BlobEndpoint}/{_container}/pool/");
        await images.CreateAsync("a.png", "old"u8.ToArray());
        await images.CreateAsync("b.png", "bee"u8.ToArray());
        var set = new ShardSetFolder(_factory.Open($"{azurite.BlobEndpoint}/{_container}/labels/"), images.Location.ToString());
        await set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f), ShardSetFolder.Row("b.png", 1, 0.8f)]);
        await set.CommitRowsAsync(T0.AddMinutes(1), [ShardSetFolder.Row("a.png", 2, 0.7f, etag: "\"e2\"")]);
        await set.WriteAsync("part-0000of0001-000002.parquet", [ShardSetFolder.Row("c.png", 2, 0.7f)]);

        var options = new ShardSelectionOptions { Locations = { $"{azurite.BlobEndpoint}/{_container}/labels/" } };
        var result = await new ShardSetReader(_factory, options).ReadAsync(ShardSetFolder.Classes, preprocessing: null);

        Assert.Equal([("a.png", "\"e2\""), ("b.png", "\"e1\"")], result.Rows.Select(r => (r.Key, r.ETag)));
        Assert.Equal("bee"u8.ToArray(), await result.StoreOf(result.Rows[1]).ReadAllBytesAsync("b.png"));
        Assert.Equal($"{azurite.BlobEndpoint}/{_container}/labels/{set.TeacherFolder}", result.Sets.Single().Location);
    }

    [Fact]
    public async Task ReadAsync_EmptyContainer_ThrowsSayingToRunTheLabeler()
    {
        var options = new ShardSelectionOptions { Locations = { $"{azurite.BlobEndpoint}/{_container}/labels/" } };

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => new ShardSetReader(_factory, options).ReadAsync(ShardSetFolder.Classes, null));

        Assert.Contains(ShardSetReader.LabelerCommand, e.Message, StringComparison.Ordinal);
    }
}
