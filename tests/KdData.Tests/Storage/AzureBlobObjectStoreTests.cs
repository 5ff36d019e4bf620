using KdData.Storage;
using KdData.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Storage;

/// <summary>The contract suite against Azurite (a real Blob API), through a path-style emulator URL location.</summary>
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
}
