using KdData.Hosting;
using KdData.SoftTargets;
using KdData.Storage;
using KdData.Testing;
using KdData.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace KdData.Tests.Labeler;

/// <summary>
/// The Labeler against a real Azurite that goes away mid-run (stopped gracefully, then restarted on the same
/// <c>--location</c> and port): an outage is ridden out; one longer than <c>Labeler:OutageLimit</c> stops the run without
/// committing, and the rerun finishes. Where in the lease cycle an outage may begin, and for how long, is swept by
/// <c>bench/labeler/outage.sh</c>. Each test has its own Azurite, so stopping it disturbs no other test.
/// </summary>
[Trait("Category", "Slow")]
public sealed class StorageOutageTests : IAsyncLifetime
{
    private static readonly string TeacherId = LabelerSamples.TeacherId(LabelerSamples.TeacherRecord);
    private AzuriteServer _azurite = null!;

    public async Task InitializeAsync() => _azurite = await AzuriteServer.StartAsync(LabelerSamples.RepoRoot);

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task Process_StorageOutageShorterThanTheLease_PausesAndCompletesExactlyOnce()
    {
        var (arguments, output, listed) = await PrepareAsync();
        using var labeler = LabelerProcess.Start(arguments);

        await StopAfterFirstCommitAsync(output, labeler);
        await Task.Delay(TimeSpan.FromSeconds(20));
        Assert.False(labeler.HasExited, "the run ended during the outage: " + labeler.Output);
        await _azurite.RestartAsync();
        var code = await labeler.WaitForExitAsync();

        Assert.True(code == ExitCodes.Success, labeler.Output);
        // The operations' own retries (kept short here) ran out during the outage: the pipeline paused instead.
        Assert.True(labeler.Output.Contains("is unreachable", StringComparison.Ordinal), labeler.Output);
        var labels = await CommittedLabels.ReadAsync(output, TeacherId);
        labels.AssertExactlyOnce(listed, views: 2);
        labels.AssertNoUncommittedFiles();
        Assert.Empty(labels.Errors);
    }

    [Fact]
    public async Task Process_StorageOutageLongerThanTheOutageLimit_ExitsOneWithoutCommittingAndTheRerunCompletes()
    {
        var (arguments, output, listed) = await PrepareAsync();
        using (var labeler = LabelerProcess.Start([.. arguments, "--Labeler:OutageLimit=00:00:15"]))
        {
            await StopAfterFirstCommitAsync(output, labeler);
            var code = await labeler.WaitForExitAsync();

            // docs/operations.md "Exit codes": storage unreachable for longer than Labeler:OutageLimit is exit 1 (retry).
            Assert.True(code == ExitCodes.Failure, $"exit {code}: {labeler.Output}");
            Assert.Contains("Labeler:OutageLimit is 15 s", labeler.Output, StringComparison.Ordinal);
        }

        await _azurite.RestartAsync();
        var (rerunCode, summary, log) = await LabelerProcess.RunAsync(arguments);

        Assert.True(rerunCode == ExitCodes.Success, log);
        Assert.NotNull(summary);
        Assert.True(summary.AlreadyLabeled > 0, "the first run committed nothing before the outage: " + log);
        var labels = await CommittedLabels.ReadAsync(output, TeacherId);
        labels.AssertExactlyOnce(listed, views: 2);
        labels.AssertNoUncommittedFiles();
        Assert.Empty(labels.Errors);
    }

    private async Task<(List<string> Arguments, IObjectStore Output, IReadOnlyList<ObjectInfo> Listed)> PrepareAsync()
    {
        var stores = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = _azurite.ConnectionString }));
        var input = $"{_azurite.BlobEndpoint}/outage/images/";
        var output = $"{_azurite.BlobEndpoint}/outage/labels/";
        var listed = await LabelerSamples.UploadAsync(stores.Open(input), LabelerSamples.ImageNames.Count, copies: 3);
        List<string> arguments =
        [
            $"--Labeler:Input={input}",
            $"--Labeler:Output={output}",
            $"--Labeler:Teacher={LabelerSamples.TeacherRecord}",
            "--Labeler:CommitInterval=00:00:00.2",
            "--Labeler:ViewsPerImage=2",
            "--Labeler:BatchSize=16",
            "--Labeler:FetchConcurrency=2",
            "--Labeler:ChannelCapacity=8",
            "--Labeler:DecodeWorkers=1",
            $"--Storage:ConnectionString={_azurite.ConnectionString}",
            // A retry budget much shorter than the outage, so the outage is ridden out by pausing, not by retries.
            "--Storage:RetryMaxAttempts=2",
            "--Storage:RetryMaxDelay=00:00:01",
        ];
        return (arguments, stores.Open(output), listed);
    }

    /// <summary>Waits for the run's first commit, then stops Azurite while the run is still going.</summary>
    private async Task StopAfterFirstCommitAsync(IObjectStore output, LabelerProcess labeler)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await CommittedAsync(output))
        {
            Assert.False(labeler.HasExited, "the Labeler exited before its first commit: " + labeler.Output);
            Assert.True(DateTime.UtcNow < deadline, "no commit within 90 s: " + labeler.Output);
            await Task.Delay(100);
        }

        await _azurite.StopGracefullyAsync();
        Assert.False(labeler.HasExited, "the run finished before the outage began; give it more work");
    }

    private static async Task<bool> CommittedAsync(IObjectStore output)
    {
        try
        {
            await foreach (var item in output.ListAllAsync($"teacher={TeacherId}/_manifests/"))
            {
                if (PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key), item.Key).Commits.Count > 0)
                {
                    return true;
                }
            }
        }
        catch (StoreNotFoundException)
        {
            // Nothing written yet.
        }

        return false;
    }
}
