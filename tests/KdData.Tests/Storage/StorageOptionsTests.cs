using KdData.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Storage;

public sealed class StorageOptionsTests
{
    private const string FakeKey = "ZmFrZS1hY2NvdW50LWtleS1mb3ItdGVzdHMtb25seQ==";

    [Fact]
    public void AddKdDataStorage_StorageSection_BindsOptionsAndRegistersSingletonFactory()
    {
        using ServiceProvider provider = Build(new Dictionary<string, string?>
        {
            ["Storage:AuthMode"] = "Identity",
            ["Storage:AccountUrl"] = "https://acct.blob.core.windows.net/",
            ["Storage:CredentialKind"] = "WorkloadIdentity",
            ["Storage:RetryMaxAttempts"] = "7",
            ["Storage:AttemptTimeout"] = "00:00:30",
        });

        StorageOptions options = provider.GetRequiredService<IOptions<StorageOptions>>().Value;

        Assert.Equal(AzureAuthMode.Identity, options.AuthMode);
        Assert.Equal(AzureCredentialKind.WorkloadIdentity, options.CredentialKind);
        Assert.Equal(7, options.RetryMaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(30), options.AttemptTimeout);
        Assert.Same(provider.GetRequiredService<ObjectStoreFactory>(), provider.GetRequiredService<ObjectStoreFactory>());
    }

    [Theory]
    [InlineData("Storage:RetryMaxAttempts", "-1", "RetryMaxAttempts")]
    [InlineData("Storage:CircuitBreakerFailureRatio", "0", "CircuitBreakerFailureRatio")]
    [InlineData("Storage:CircuitBreakerMinimumThroughput", "1", "CircuitBreakerMinimumThroughput")]
    [InlineData("Storage:RetryMaxDelay", "00:00:00.001", "RetryMaxDelay")]
    [InlineData("Storage:AccountUrl", "not a url", "AccountUrl")]
    public void AddKdDataStorage_InvalidSetting_FailsValidationNamingIt(string setting, string value, string expectedName)
    {
        using ServiceProvider provider = Build(new Dictionary<string, string?> { [setting] = value });

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains(expectedName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_WithSecrets_ShowsOnlyWhetherTheyAreSet()
    {
        var options = new StorageOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={FakeKey}",
            SasToken = "sv=1&sig=secret-signature",
            AccountUrl = "https://acct.blob.core.windows.net/?sig=url-signature",
        };

        string text = options.ToString();

        Assert.DoesNotContain(FakeKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-signature", text, StringComparison.Ordinal);
        Assert.DoesNotContain("url-signature", text, StringComparison.Ordinal);
        Assert.Contains("ConnectionString = <set>", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_ConnectionStringClientThatCannotConnect_ErrorHasNoAccountKey()
    {
        int closedPort = ClosedPort();
        var options = new StorageOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={FakeKey};BlobEndpoint=http://127.0.0.1:{closedPort}/devstoreaccount1;",
            SdkMaxRetries = 0,
            RetryMaxAttempts = 1,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        };
        IObjectStore store = new ObjectStoreFactory(Options.Create(options)).Open("az://container/p/");

        var ex = await Assert.ThrowsAsync<StorageOperationException>(() => store.ReadAllBytesAsync("x.bin"));

        Assert.Equal("x.bin", ex.Key);
        Assert.DoesNotContain(FakeKey, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(FakeKey, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AzLocationWithoutConnectionString_ThrowsNamingTheSetting()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions()));

        var ex = Assert.Throws<InvalidStorageLocationException>(() => factory.Open("az://container/p/"));

        Assert.Contains("Storage:ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_IdentityModeAzLocationWithoutAccountUrl_ThrowsNamingTheSetting()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { AuthMode = AzureAuthMode.Identity }));

        var ex = Assert.Throws<InvalidStorageLocationException>(() => factory.Open("az://container/p/"));

        Assert.Contains("Storage:AccountUrl", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_IdentityModeAccountUrl_CreatesStoreWithoutContactingAzure()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions
        {
            AuthMode = AzureAuthMode.Identity,
            CredentialKind = AzureCredentialKind.ManagedIdentity,
            AccountUrl = "https://acct.blob.core.windows.net/",
        }));

        IObjectStore store = factory.Open("az://container/p/");

        Assert.Equal("az://container/p/", store.Location.ToString());
        Assert.Equal(new Uri("https://acct.blob.core.windows.net/"), factory.GetServiceClient(store.Location).Uri);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddKdDataStorage(configuration).BuildServiceProvider();
    }

    private static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
