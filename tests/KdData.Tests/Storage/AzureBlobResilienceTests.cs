using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using KdData.Storage;
using KdData.Tests.Fixtures;
using KdData.Tests.Labeler;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace KdData.Tests.Storage;

/// <summary>Azure-only behaviour: authentication forms, the per-account client cache, and retry/circuit-breaker behaviour under injected faults.</summary>
[Trait("Category", "Slow")]
[Collection(AzuriteCollectionDefinition.Name)]
public sealed class AzureBlobResilienceTests : IAsyncLifetime
{
    private readonly AzuriteFixture _azurite;
    private string _container = null!;

    public AzureBlobResilienceTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
    }

    public async Task InitializeAsync() => _container = await _azurite.CreateContainerAsync();

    public Task DisposeAsync() => _azurite.DeleteContainerAsync(_container);

    [Fact]
    public async Task Open_AzLocation_UsesConnectionStringAccount()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        IObjectStore store = factory.Open($"az://{_container}/via-az/");

        await store.CreateAsync("k.txt", new byte[] { 1, 2 });

        var direct = new BlobContainerClient(_azurite.ConnectionString, _container).GetBlobClient("via-az/k.txt");
        Assert.True((await direct.ExistsAsync()).Value);
        Assert.Equal($"az://{_container}/via-az/", store.Location.ToString());
    }

    [Fact]
    public void Open_LocationsOnSameAccount_ShareOneServiceClient()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));

        BlobServiceClient a = factory.GetServiceClient(StorageLocation.Parse($"az://{_container}/a/", "/"));
        BlobServiceClient b = factory.GetServiceClient(StorageLocation.Parse($"{_azurite.BlobEndpoint}/{_container}/b/", "/"));
        BlobServiceClient c = factory.GetServiceClient(StorageLocation.Parse("az://other-container/", "/"));

        Assert.Same(a, b);
        Assert.Same(a, c);
    }

    [Fact]
    public void Open_EmulatorUrlOnOtherEndpointThanConnectionString_ThrowsInvalidLocation()
    {
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        string location = $"http://127.0.0.1:1/{AzuriteFixture.AccountName}/{_container}/";

        var ex = Assert.Throws<InvalidStorageLocationException>(() => factory.Open(location));

        Assert.Contains("127.0.0.1:1", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Open_SasUrlLocation_WorksWithoutAnyConfiguredSecretAndHidesSignature()
    {
        Uri sasUri = new BlobContainerClient(_azurite.ConnectionString, _container).GenerateSasUri(
            BlobContainerSasPermissions.Read | BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Create
            | BlobContainerSasPermissions.List | BlobContainerSasPermissions.Delete,
            DateTimeOffset.UtcNow.AddHours(1));
        string location = $"{_azurite.BlobEndpoint}/{_container}/sas-prefix/{sasUri.Query}";
        var factory = new ObjectStoreFactory(Options.Create(new StorageOptions { AuthMode = AzureAuthMode.Sas }));

        IObjectStore store = factory.Open(location);
        await store.CreateAsync("s.bin", new byte[] { 7 });

        Assert.Equal(new byte[] { 7 }, await store.ReadAllBytesAsync("s.bin"));
        Assert.Equal(["s.bin"], (await store.ListAsync("", 10, null)).Items.Select(i => i.Key).ToArray());
        Assert.DoesNotContain("sig=", store.Location.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Open_AzLocationInSasModeWithTokenSetting_UsesAccountUrlAndToken()
    {
        Uri accountSas = new BlobServiceClient(_azurite.ConnectionString).GenerateAccountSasUri(
            AccountSasPermissions.Read | AccountSasPermissions.Write | AccountSasPermissions.Create | AccountSasPermissions.List,
            DateTimeOffset.UtcNow.AddHours(1),
            AccountSasResourceTypes.Object | AccountSasResourceTypes.Container);
        var options = new StorageOptions
        {
            AuthMode = AzureAuthMode.Sas,
            AccountUrl = _azurite.BlobEndpoint,
            SasToken = accountSas.Query,
        };
        var factory = new ObjectStoreFactory(Options.Create(options));

        IObjectStore store = factory.Open($"az://{_container}/token/");
        await store.CreateAsync("t.bin", new byte[] { 3 });

        Assert.Equal(new byte[] { 3 }, await store.ReadAllBytesAsync("t.bin"));
        Assert.DoesNotContain("sig=", options.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Operations_TransientFaultsBelowRetryBudget_Succeed()
    {
        var faults = new FaultInjectionPolicy(failures: 3);
        IObjectStore store = OpenWithFaults(faults, retryMaxAttempts: 4, circuitBreaker: false);

        ObjectInfo created = await store.CreateAsync("retried.bin", new byte[] { 1, 2, 3 });
        byte[] read = await store.ReadAllBytesAsync("retried.bin");

        Assert.Equal(3, faults.InjectedFailures);
        Assert.Equal(3, created.Size);
        Assert.Equal(new byte[] { 1, 2, 3 }, read);
    }

    [Fact]
    public async Task CreateOrConfirmAsync_CreateResponseLost_RetrySucceedsWhereCreateFails()
    {
        var lostOnce = new IntermittentFaultPolicy(every: 1, afterService: true, limit: 1);
        IObjectStore store = OpenWithFaults(lostOnce, retryMaxAttempts: 4, circuitBreaker: false);
        var lostAgain = new IntermittentFaultPolicy(every: 1, afterService: true, limit: 1);
        IObjectStore plain = OpenWithFaults(lostAgain, retryMaxAttempts: 4, circuitBreaker: false);

        ObjectInfo created = await store.CreateOrConfirmAsync("lost.bin", new byte[] { 4, 5, 6 });
        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => plain.CreateAsync("lost-plain.bin", new byte[] { 4, 5, 6 }));

        Assert.Equal(1, lostOnce.Injected);
        Assert.Equal(1, lostAgain.Injected);
        Assert.Equal(3, created.Size);
        Assert.Equal(new byte[] { 4, 5, 6 }, await store.ReadAllBytesAsync("lost.bin"));
    }

    [Fact]
    public async Task CreateOrReplaceLeftoverAsync_DeleteAndCreateResponsesLost_WritesOnce()
    {
        await OpenWithFaults(new FaultInjectionPolicy(0), retryMaxAttempts: 4, circuitBreaker: false).CreateAsync("part.parquet", new byte[] { 9, 9, 9, 9 });
        // 1 create (409), 2 properties (other size), 3 delete (response lost), 4 delete again (404),
        // 5 create (response lost), 6 create again (409: our own blob), 7 properties, 8 read: same bytes.
        var faults = new LostResponsePolicy(3, 5);
        IObjectStore store = OpenWithFaults(faults, retryMaxAttempts: 4, circuitBreaker: false);

        ObjectInfo written = await store.CreateOrReplaceLeftoverAsync("part.parquet", new byte[] { 1, 2, 3 });

        Assert.Equal(8, faults.Requests);
        Assert.Equal(3, written.Size);
        Assert.Equal(new byte[] { 1, 2, 3 }, await store.ReadAllBytesAsync("part.parquet"));
        Assert.Equal(written.ETag, (await store.GetPropertiesAsync("part.parquet")).ETag);
    }

    [Fact]
    public async Task CreateAsync_ExistingKey_ConflictIsNotRetried()
    {
        await OpenWithFaults(new FaultInjectionPolicy(0), retryMaxAttempts: 4, circuitBreaker: false).CreateAsync("dup", new byte[] { 1 });
        var faults = new FaultInjectionPolicy(failures: 0);
        IObjectStore store = OpenWithFaults(faults, retryMaxAttempts: 4, circuitBreaker: false);

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => store.CreateAsync("dup", new byte[] { 2 }));

        Assert.Equal(1, faults.Requests);
    }

    [Fact]
    public async Task Operations_PermanentFault_ThrowStorageOperationExceptionAfterRetryBudget()
    {
        var faults = new FaultInjectionPolicy(failures: int.MaxValue);
        IObjectStore store = OpenWithFaults(faults, retryMaxAttempts: 2, circuitBreaker: false);

        var ex = await Assert.ThrowsAsync<StorageOperationException>(() => store.CreateAsync("down.bin", new byte[] { 1 }));

        // 1 attempt + 2 operation retries, SDK retries off: exactly 3 requests, not a multiplied storm.
        Assert.Equal(3, faults.Requests);
        Assert.Equal("Create", ex.Operation);
        Assert.Equal("down.bin", ex.Key);
        Assert.Contains("down.bin", ex.Message, StringComparison.Ordinal);
        Assert.Contains(_container, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_PermanentFault_OpenCircuitFailsFastWithoutCallingTheService()
    {
        var faults = new FaultInjectionPolicy(failures: int.MaxValue);
        IObjectStore store = OpenWithFaults(faults, retryMaxAttempts: 2, circuitBreaker: true);

        await Assert.ThrowsAsync<StorageOperationException>(() => store.CreateAsync("a.bin", new byte[] { 1 }));
        int requestsBeforeOpenCircuit = faults.Requests;
        var ex = await Assert.ThrowsAsync<StorageOperationException>(() => store.ReadAllBytesAsync("b.bin"));

        Assert.IsType<BrokenCircuitException>(ex.InnerException, exactMatch: false);
        Assert.Contains("circuit", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(requestsBeforeOpenCircuit, faults.Requests);
    }

    [Fact]
    public async Task ProbeAsync_StorageBackWhileTheCircuitIsOpen_AnswersAndClosesTheCircuit()
    {
        var outage = new FaultInjectionPolicy(failures: 0);
        IObjectStore store = OpenWithFaults(outage, retryMaxAttempts: 2, circuitBreaker: true);
        await store.CreateAsync("before.bin", new byte[] { 1 });

        outage.Down = true;
        await Assert.ThrowsAsync<StorageOperationException>(() => store.ReadAllBytesAsync("before.bin"));
        var open = await Assert.ThrowsAsync<StorageOperationException>(() => store.ReadAllBytesAsync("before.bin"));
        Assert.IsType<BrokenCircuitException>(open.InnerException, exactMatch: false);
        int refused = outage.Requests;
        Assert.False(await store.ProbeAsync());
        Assert.Equal(refused + 1, outage.Requests); // one request: no retries, and the open circuit did not keep it out

        outage.Down = false;
        Assert.True(await store.ProbeAsync());

        // The break lasts 30 s; the probe's answer closed it, so the read goes through now.
        Assert.Equal(new byte[] { 1 }, await store.ReadAllBytesAsync("before.bin"));
    }

    [Fact]
    public async Task RenewLeaseAsync_CircuitOpenAndStorageBack_RenewsAtOnce()
    {
        var outage = new FaultInjectionPolicy(failures: 0);
        IObjectStore store = OpenWithFaults(outage, retryMaxAttempts: 2, circuitBreaker: true);
        ObjectLease lease = (await store.TryAcquireLeaseAsync("lease", TimeSpan.FromSeconds(60)))!;

        outage.Down = true;
        await Assert.ThrowsAsync<StorageOperationException>(() => store.ReadAllBytesAsync("lease"));
        int refused = outage.Requests;
        var down = await Assert.ThrowsAsync<StorageOperationException>(() => store.RenewLeaseAsync(lease));
        Assert.IsNotType<BrokenCircuitException>(down.InnerException, exactMatch: false);
        Assert.Equal(refused + 1, outage.Requests); // a single request, not the retry budget

        outage.Down = false;
        ObjectLease renewed = await store.RenewLeaseAsync(lease);

        Assert.Equal(lease.LeaseId, renewed.LeaseId);
        Assert.Empty(await store.ReadAllBytesAsync("lease")); // and the renewal's answer closed the circuit
        Assert.True(await store.ReleaseLeaseAsync(renewed));
    }

    private IObjectStore OpenWithFaults(Azure.Core.Pipeline.HttpPipelinePolicy faults, int retryMaxAttempts, bool circuitBreaker)
    {
        var options = new StorageOptions
        {
            ConnectionString = _azurite.ConnectionString,
            SdkMaxRetries = 0,
            RetryMaxAttempts = retryMaxAttempts,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
            RetryMaxDelay = TimeSpan.FromMilliseconds(50),
            CircuitBreakerEnabled = circuitBreaker,
            CircuitBreakerMinimumThroughput = 2,
            CircuitBreakerFailureRatio = 0.5,
            CircuitBreakerBreakDuration = TimeSpan.FromSeconds(30),
        };
        var factory = new ObjectStoreFactory(
            Options.Create(options),
            loggerFactory: null,
            hostEnvironment: null,
            configureBlobClientOptions: o => o.AddPolicy(faults, Azure.Core.HttpPipelinePosition.PerRetry));
        return factory.Open($"{_azurite.BlobEndpoint}/{_container}/faults/");
    }
}
