using Azure.Storage.Blobs;
using KdData.Testing;

namespace KdData.Tests.Fixtures;

/// <summary>
/// A private Azurite blob service for the tests (see <see cref="AzuriteServer"/>, shared with the bench): installed
/// into <c>&lt;repo&gt;/.tools/azurite</c> with npm when missing, started on a free port with a temp data folder, both
/// removed on dispose. If npm or Azurite cannot start, initialisation throws and every test in the collection fails
/// with the reason.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public const string AzuriteVersion = AzuriteServer.Version;
    public const string AccountName = AzuriteServer.AccountName;

    /// <summary>The well-known, public Azurite development key (not a secret).</summary>
    public const string AccountKey = AzuriteServer.AccountKey;

    private AzuriteServer? _server;

    private AzuriteServer Server => _server ?? throw new InvalidOperationException("Azurite has not been started.");

    public int Port => Server.Port;

    /// <summary>Path-style blob endpoint, e.g. <c>http://127.0.0.1:12345/devstoreaccount1</c>.</summary>
    public string BlobEndpoint => Server.BlobEndpoint;

    public string ConnectionString => Server.ConnectionString;

    public async Task InitializeAsync() => _server = await AzuriteServer.StartAsync(FindRepoRoot());

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Creates a container with a unique name and returns the name.</summary>
    public async Task<string> CreateContainerAsync()
    {
        string name = "t" + Guid.NewGuid().ToString("N")[..20];
        await new BlobContainerClient(ConnectionString, name).CreateAsync();
        return name;
    }

    public async Task DeleteContainerAsync(string name) =>
        await new BlobContainerClient(ConnectionString, name).DeleteIfExistsAsync();

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KdData.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"KdData.sln not found above {AppContext.BaseDirectory}; cannot locate <repo>/.tools for Azurite.");
    }
}
