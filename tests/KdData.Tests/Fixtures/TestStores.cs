using KdData.Storage;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Fixtures;

/// <summary>Fresh, empty stores for tests: a temp folder, or a new container on the shared Azurite.</summary>
public static class TestStores
{
    /// <summary>
    /// A store rooted in a new temp folder; delete <paramref name="folder"/> when done. Its leases expire on
    /// <paramref name="time"/> (the system clock when null).
    /// </summary>
    public static IObjectStore Local(out string folder, TimeProvider? time = null)
    {
        folder = Directory.CreateTempSubdirectory("kd-store-").FullName;
        return Factory(time: time).Open(StorageLocation.ForLocalFolder(folder));
    }

    /// <summary>A store rooted in a new container of <paramref name="azurite"/>.</summary>
    public static async Task<(IObjectStore Store, string Container)> AzuriteAsync(AzuriteFixture azurite, string prefix = "root/")
    {
        ArgumentNullException.ThrowIfNull(azurite);
        var container = await azurite.CreateContainerAsync();
        var store = Factory(azurite.ConnectionString).Open($"{azurite.BlobEndpoint}/{container}/{prefix}");
        return (store, container);
    }

    /// <summary>A factory with default resilience settings; local leases expire on <paramref name="time"/> (the system clock when null).</summary>
    public static ObjectStoreFactory Factory(string? connectionString = null, TimeProvider? time = null) =>
        new(Options.Create(new StorageOptions { ConnectionString = connectionString }), timeProvider: time);
}
