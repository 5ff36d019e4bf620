using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Datasets;

[Collection(AzuriteCollectionDefinition.Name)]
public sealed class AzuritePackedDatasetImporterTests : PackedDatasetImporterContractTests
{
    private readonly AzuriteFixture _azurite;
    private string _container = string.Empty;

    public AzuritePackedDatasetImporterTests(AzuriteFixture azurite) => _azurite = azurite;

    protected override async Task<IObjectStore> CreateStoreAsync()
    {
        (var store, _container) = await TestStores.AzuriteAsync(_azurite);
        return store;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _azurite.DeleteContainerAsync(_container);
    }
}
