using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>The Labeler contract on local folders.</summary>
public sealed class LocalLabelerTests : LabelerContractTests
{
    private readonly List<string> _folders = [];

    protected override ObjectStoreFactory Factory { get; } = TestStores.Factory();

    protected override IReadOnlyList<string> StorageArguments => [];

    public override Task InitializeAsync() => Task.CompletedTask;

    public override Task DisposeAsync()
    {
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    protected override Task<string> NewLocationAsync(string name) =>
        Task.FromResult(Path.Combine(NewFolder(), name) + "/");

    protected override Task<string> NewLocalFolderAsync() => Task.FromResult(NewFolder());

    protected override Task<string> NewMissingRootLocationAsync() => NewLocationAsync("never-written");

    /// <summary>A local lease is a sidecar file holding id and expiry; deleting it is what its expiry amounts to.</summary>
    protected override Task ExpireLeasesAsync(string outputLocation)
    {
        if (Directory.Exists(outputLocation))
        {
            foreach (var lease in Directory.EnumerateFiles(outputLocation, "*.lease", SearchOption.AllDirectories))
            {
                File.Delete(lease);
            }
        }

        return Task.CompletedTask;
    }

    private string NewFolder()
    {
        var folder = Directory.CreateTempSubdirectory("kd-labeler-").FullName;
        _folders.Add(folder);
        return folder;
    }
}
