using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Datasets;

public sealed class LocalIdxDatasetImporterTests : IdxDatasetImporterContractTests
{
    private string _folder = string.Empty;

    protected override Task<IObjectStore> CreateStoreAsync() => Task.FromResult(TestStores.Local(out _folder));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
