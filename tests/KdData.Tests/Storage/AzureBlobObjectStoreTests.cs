using KdData.Storage;
using KdData.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Storage;

/// <summary>The contract suite against Azurite (a real Blob API), through a path-style emulator URL location.</summary>
[Trait("Category", "Slow")]
[Collection(AzuriteCollectionDefinition.Name)]
public sealed class AzureBlobObjectStoreTests : ObjectStoreContractTests
{
    private readonly AzuriteFixture _azurite;
    private string? _container;

    public AzureBlobObjectStoreTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    /// <summary>Azure's minimum lease is 15 s; the expiry test waits it out once.</summary>
    protected override TimeSpan ShortLeaseDuration => TimeSpan.FromSeconds(15);

    protected override async Task<IObjectStore> CreateStoreAsync()
    {
        _container = await _azurite.CreateContainerAsync();
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        return factory.Open($"{_azurite.BlobEndpoint}/{_container}/root/");
    }

    public override async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _azurite.DeleteContainerAsync(_container);
        }
    }

    [Fact]
    public void Open_EmulatorUrl_ParsesAccountContainerAndPrefix()
    {
        Assert.Equal(StorageLocationKind.AzureBlob, Store.Location.Kind);
        Assert.Equal(AzuriteFixture.AccountName, Store.Location.AccountName);
        Assert.Equal(_container, Store.Location.ContainerName);
        Assert.Equal("root/", Store.Location.Prefix);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_ShorterThanAzureMinimum_ThrowsArgumentOutOfRange()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.TryAcquireLeaseAsync("claims/x", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ListAsync_ContainerMissing_ThrowsStoreNotFoundUntilTheFirstWriteCreatesIt()
    {
        var container = "missing" + Guid.NewGuid().ToString("N")[..12];
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        IObjectStore store = factory.Open($"{_azurite.BlobEndpoint}/{container}/p/");
        try
        {
            var ex = await Assert.ThrowsAsync<StoreNotFoundException>(() => store.ListAsync("", 10, null));
            Assert.Contains(container, ex.Message, StringComparison.Ordinal);

            await store.CreateAsync("a.bin", new byte[] { 1 });

            Assert.Equal(["a.bin"], (await store.ListAsync("", 10, null)).Items.Select(i => i.Key));
            Assert.Empty((await store.ListAsync("other/", 10, null)).Items);
        }
        finally
        {
            await _azurite.DeleteContainerAsync(container);
        }
    }

    [Fact]
    public async Task ObjectOperations_ContainerMissing_ReportTheKeyStateNotAFailure()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        IObjectStore store = factory.Open($"{_azurite.BlobEndpoint}/missing{Guid.NewGuid().ToString("N")[..12]}/");

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.GetPropertiesAsync("a.bin"));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => store.ReadAllBytesAsync("a.bin"));
        await Assert.ThrowsAsync<ObjectChangedException>(() => store.ReplaceAsync("a.bin", new byte[] { 1 }, "\"0x1\""));
        Assert.False(await store.DeleteAsync("a.bin"));
    }
}
