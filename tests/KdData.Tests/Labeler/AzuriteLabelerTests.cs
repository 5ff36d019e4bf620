using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using KdData.Labeling;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Labeler;

/// <summary>The Labeler contract on Azure Blob Storage (Azurite), plus surviving transient faults.</summary>
[Trait("Category", "Slow")]
[Collection(AzuriteCollectionDefinition.Name)]
public sealed class AzuriteLabelerTests : LabelerContractTests
{
    private readonly AzuriteFixture _azurite;
    private readonly List<string> _folders = [];
    private string _container = null!;

    public AzuriteLabelerTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        Factory = TestStores.Factory(azurite.ConnectionString);
    }

    protected override ObjectStoreFactory Factory { get; }

    protected override IReadOnlyList<string> StorageArguments => [$"--Storage:ConnectionString={_azurite.ConnectionString}"];

    public override async Task InitializeAsync() => _container = await _azurite.CreateContainerAsync();

    public override async Task DisposeAsync()
    {
        await _azurite.DeleteContainerAsync(_container);
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAsync_TransientStorageFaults_SurvivedAndEveryImageExactlyOnce(bool loseResponses)
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, 60);
        var faults = new IntermittentFaultPolicy(every: 6, afterService: loseResponses);

        var summary = await RunAsync(input, output, o => o.ViewsPerImage = 2, factory: FaultyFactory(faults));

        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.True(faults.Injected > 10, $"only {faults.Injected} faults injected");
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 2);
        labels.AssertNoUncommittedFiles();
        Assert.Empty(labels.Errors);
    }

    [Fact]
    public async Task RunAsync_FaultsReadingPackedFiles_FilesReopenedAndEveryImageExactlyOnce()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        using var temp = new KdData.Tests.Fixtures.TempDirectory();
        var path = Path.Combine(temp.Path, "groups.parquet");
        await KdData.Tests.Fixtures.PackedSamples.WriteParquetRowGroupsAsync(path, 60, rowGroupSize: 10);
        var table = await inputStore.CreateAsync("groups.parquet", await File.ReadAllBytesAsync(path));
        var tarPath = Path.Combine(temp.Path, "shard.tar");
        var names = await KdData.Tests.Fixtures.PackedSamples.WriteTarAsync(Path.Combine(temp.Path, "staging"), tarPath, 60, 30);
        var tar = await inputStore.CreateAsync("shard.tar", await File.ReadAllBytesAsync(tarPath));
        var expected = Enumerable.Range(0, 60).Select(i => new ObjectInfo($"groups.parquet#{i}", 0, table.ETag, table.LastModified))
            .Concat(names.Select(n => new ObjectInfo($"shard.tar#{n}", 0, tar.ETag, tar.LastModified))).ToList();
        // Every other request for an input file fails (the listing's URI names the prefix as a query, not a path): the
        // table's first ranged read fails inside the open stream, where no operation retry covers it, so the file is opened again.
        var faults = new IntermittentFaultPolicy(every: 2, afterService: false, pathContains: "/input-", limit: 3);

        var summary = await RunAsync(input, output, factory: FaultyFactory(faults));

        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.InRange(faults.Injected, 2, 3); // how many requests the files take depends on which is read first
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        Assert.Empty(labels.Errors);
        labels.AssertExactlyOnce(expected, views: 1);
    }

    [Fact]
    public async Task Process_ThreeClaimingReplicasOneKilled_EveryImageOnceAndEveryPartitionComplete()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, LabelerSamples.ImageNames.Count, copies: 5);
        var arguments = ProcessArguments(input, output, "--Labeler:Partition:Claim=true", "--Labeler:Partition:Count=8", "--Labeler:Partition:ClaimRun=run-1", "--Labeler:DecodeWorkers=1");
        var replicas = Enumerable.Range(0, 3).Select(_ => LabelerProcess.Start(arguments)).ToList();
        try
        {
            // SIGKILL the first replica seen labeling (it holds a partition's lease, which must expire before takeover).
            // Which one starts first depends on the machine's load, so the victim is chosen as they go.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            LabelerProcess? victim = null;
            while (victim is null)
            {
                victim = replicas.FirstOrDefault(r => !r.HasExited && r.Output.Contains("Labeling ", StringComparison.Ordinal));
                Assert.True(replicas.Any(r => !r.HasExited), "every replica finished before one could be killed: " + replicas[0].Output);
                Assert.True(DateTime.UtcNow < deadline, "no replica started labeling within 90 s: " + replicas[0].Output);
                await Task.Delay(50);
            }

            await Task.Delay(300);
            Assert.False(victim.HasExited, "the victim finished before it could be killed");
            victim.Kill();
            await victim.WaitForExitAsync();

            foreach (var replica in replicas.Where(r => r != victim))
            {
                Assert.True(await replica.WaitForExitAsync() == KdData.Hosting.ExitCodes.Success, replica.Output);
            }
        }
        finally
        {
            replicas.ForEach(r => r.Dispose());
        }

        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 1);
        labels.AssertNoUncommittedFiles();
        Assert.Equal(8, labels.Manifests.Count);
        var claims = $"teacher={TeacherId}/_claims/run-1/";
        var complete = await outputStore.ListAllAsync(claims).Select(i => i.Key[claims.Length..]).ToListAsync();
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"partition-{i:D4}of0008"), complete.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RunAsync_RunSummaryWriteResponseLost_RunStillCompletes()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, 10);
        var faults = new IntermittentFaultPolicy(every: 1, afterService: true, pathContains: "/_runs/", limit: 1);

        var summary = await RunAsync(input, output, factory: FaultyFactory(faults));

        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(1, faults.Injected);
        var written = await outputStore.ListAllAsync($"teacher={TeacherId}/_runs/").ToListAsync();
        Assert.Single(written);
        (await CommittedLabels.ReadAsync(outputStore, TeacherId)).AssertExactlyOnce(listed, views: 1);
    }

    private ObjectStoreFactory FaultyFactory(IntermittentFaultPolicy faults) =>
        new(
            Microsoft.Extensions.Options.Options.Create(new StorageOptions
            {
                ConnectionString = _azurite.ConnectionString,
                SdkMaxRetries = 0,
                RetryMaxAttempts = 6,
                RetryBaseDelay = TimeSpan.FromMilliseconds(5),
                RetryMaxDelay = TimeSpan.FromMilliseconds(50),
                CircuitBreakerEnabled = false,
            }),
            loggerFactory: null,
            hostEnvironment: null,
            configureBlobClientOptions: o => o.AddPolicy(faults, Azure.Core.HttpPipelinePosition.PerRetry));

    protected override Task<string> NewLocationAsync(string name) =>
        Task.FromResult($"{_azurite.BlobEndpoint}/{_container}/{name}-{Guid.NewGuid():N}/");

    protected override Task<string> NewMissingRootLocationAsync() =>
        Task.FromResult($"{_azurite.BlobEndpoint}/missing{Guid.NewGuid().ToString("N")[..12]}/images/");

    protected override Task<string> NewLocalFolderAsync()
    {
        var folder = Directory.CreateTempSubdirectory("kd-labeler-").FullName;
        _folders.Add(folder);
        return Task.FromResult(folder);
    }

    /// <summary>Breaks every held lease in the container at once, as if the killed holder's lease had expired.</summary>
    protected override async Task ExpireLeasesAsync(string outputLocation)
    {
        var container = new BlobContainerClient(_azurite.ConnectionString, _container);
        await foreach (var blob in container.GetBlobsAsync())
        {
            if (blob.Properties.LeaseState == LeaseState.Leased)
            {
                await container.GetBlobClient(blob.Name).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
            }
        }
    }
}
