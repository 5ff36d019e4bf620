using System.Globalization;
using System.Text.Json;
using KdData.Dataflow;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.SoftTargets;
using KdData.Storage;
using KdData.Tests.Fixtures;
using static TorchSharp.torch;

namespace KdData.Tests.Labeler;

/// <summary>
/// Acceptance tests of the Labeler (the <see cref="LabelingRun"/> engine in process, and the real
/// <c>kddata-labeler</c> program as a child process) against one storage backend per subclass.
/// The central check is the exactly-once invariant, read back from the committed shards.
/// </summary>
public abstract partial class LabelerContractTests : IAsyncLifetime
{
    private const int SmallSet = 40;

    /// <summary>Opens the backend's locations for in-process runs.</summary>
    protected abstract ObjectStoreFactory Factory { get; }

    /// <summary>Command-line settings the Labeler program needs to reach the backend.</summary>
    protected abstract IReadOnlyList<string> StorageArguments { get; }

    /// <summary>A location of a new, empty area of the backend (unique to this test).</summary>
    protected abstract Task<string> NewLocationAsync(string name);

    /// <summary>Frees the partition leases a killed process left, as their expiry (60 s) would.</summary>
    protected abstract Task ExpireLeasesAsync(string outputLocation);

    /// <summary>A location whose root does not exist (a folder never created, a container never created).</summary>
    protected abstract Task<string> NewMissingRootLocationAsync();

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task RunAsync_CleanRun_EveryImageOnceInAcceptedRejectedOrErrors(int views)
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, SmallSet);
        await inputStore.CreateAsync("broken/empty.png", Array.Empty<byte>());
        await inputStore.CreateAsync("broken/noise.jpg", new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 });

        var summary = await RunAsync(input, output, o =>
        {
            o.ViewsPerImage = views;
            o.MinConfidence = 0.9; // some views rejected, some accepted
        });

        var listed = await ListAsync(inputStore);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views);
        labels.AssertNoUncommittedFiles();
        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(listed.Count, summary.Listed);
        Assert.Equal(listed.Count, summary.Images);
        Assert.Equal(2, labels.Errors.Count);
        Assert.Equal(SmallSet * views, labels.Accepted.Count + labels.Rejected.Count);
        Assert.NotEmpty(labels.Accepted);
        Assert.NotEmpty(labels.Rejected);
        Assert.Equal(summary.AcceptedViews, labels.Accepted.Count);
        Assert.Equal(summary.RejectedViews, labels.Rejected.Count);
        Assert.True(summary.Commits > 1, $"expected several commits with MaxRowsPerShard 10, got {summary.Commits}");
    }

    [Fact]
    public async Task RunAsync_PartitionLeaseHeld_WaitsThenFailsClearly_AndRunsOnceReleased()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, 3);
        var holder = await outputStore.TryAcquireLeaseAsync($"teacher={TeacherId}/_leases/partition-0000of0001", TimeSpan.FromSeconds(60));
        Assert.NotNull(holder);
        // The runs wait for the lease on a fake clock, moved on only when they wait (the holder's lease is the store's, on real time).
        var clock = new ManualClock();

        var busy = RunAsync(input, output, o => o.LeaseWait = TimeSpan.FromSeconds(1), time: clock);
        Assert.Equal(LeaseKeeper.AcquireRetryInterval, await clock.NextTimerAsync());
        Assert.False(busy.IsCompleted, "the run gave up without waiting for the lease");
        clock.Advance(LeaseKeeper.AcquireRetryInterval);
        var error = await Assert.ThrowsAsync<PartitionBusyException>(() => busy);
        Assert.Contains("another replica", error.Message, StringComparison.Ordinal);
        Assert.Empty(await outputStore.ListAllAsync($"teacher={TeacherId}/_manifests/").ToListAsync());

        // Released while a second run waits: that run proceeds and labels everything.
        var waiting = RunAsync(input, output, o => o.LeaseWait = TimeSpan.FromSeconds(60), time: clock);
        Assert.Equal(LeaseKeeper.AcquireRetryInterval, await clock.NextTimerAsync());
        Assert.False(waiting.IsCompleted, "the run went ahead while the lease was held");
        Assert.True(await outputStore.ReleaseLeaseAsync(holder));
        clock.Advance(LeaseKeeper.AcquireRetryInterval);
        var summary = await waiting;
        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(3, summary.Images);
    }

    [Fact]
    public async Task ClaimedPartitions_EveryPartitionLeftLeasedByAnother_RevisitsEveryFiveSecondsAndLabelsItOnceReleased()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, 3);
        var holder = await outputStore.TryAcquireLeaseAsync($"teacher={TeacherId}/_leases/partition-0000of0001", TimeSpan.FromSeconds(60));
        Assert.NotNull(holder);
        var clock = new ManualClock();
        using var teacher = await LoadTeacherAsync(LabelerSamples.TeacherRecord);
        var claimed = new ClaimedPartitions(
            Factory, teacher, Options(input, output), new PartitionOptions { Claim = true, Count = 1, ClaimRun = "run-1" }, new ImageOptions(), timeProvider: clock);

        var running = claimed.RunAsync();
        // The only partition is leased by another: tried at once, then again every 5 s.
        for (var revisit = 0; revisit < 2; revisit++)
        {
            Assert.Equal(ClaimedPartitions.RevisitInterval, await clock.NextTimerAsync());
            Assert.False(running.IsCompleted, "the replica stopped while a partition was left");
            clock.Advance(ClaimedPartitions.RevisitInterval);
        }

        Assert.Equal(ClaimedPartitions.RevisitInterval, await clock.NextTimerAsync());
        Assert.True(await outputStore.ReleaseLeaseAsync(holder));
        clock.Advance(ClaimedPartitions.RevisitInterval);
        var summaries = await running;

        var summary = Assert.Single(summaries);
        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(3, summary.Images);
        var claims = $"teacher={TeacherId}/_claims/run-1/";
        Assert.Equal([$"{claims}partition-0000of0001"], await outputStore.ListAllAsync(claims).Select(i => i.Key).ToListAsync());
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Process_KilledAtRandomPointsThenRerun_EveryImageExactlyOnce()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, LabelerSamples.ImageNames.Count);
        var arguments = ProcessArguments(input, output);
        var random = new Random(20261127);
        var kills = 0;

        for (var round = 0; round < 4; round++)
        {
            var commitsBefore = await CommitCountAsync(outputStore);
            using var labeler = LabelerProcess.Start(arguments);
            if (round % 2 == 0)
            {
                // Half the kills (the first among them) land just after a commit, so at least one run is
                // killed mid-way however fast this machine is, and the rerun has something to continue from.
                await WaitForCommitsAsync(outputStore, labeler, commitsBefore);
                await Task.Delay(random.Next(0, 100));
            }
            else
            {
                await Task.Delay(random.Next(300, 2500));
            }

            if (labeler.HasExited)
            {
                Assert.True(await labeler.WaitForExitAsync() == ExitCodes.Success, labeler.Output);
                continue;
            }

            labeler.Kill();
            await labeler.WaitForExitAsync();
            kills++;
            await ExpireLeasesAsync(output);
        }

        var (code, summary, log) = await LabelerProcess.RunAsync(arguments);

        Assert.True(code == ExitCodes.Success, log);
        Assert.NotNull(summary);
        Assert.True(kills > 0, "no run was killed");
        Assert.True(summary.AlreadyLabeled > 0, "nothing committed before the last run: " + log);
        Assert.Equal(listed.Count, summary.AlreadyLabeled + summary.Images);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 1);
        labels.AssertNoUncommittedFiles();
    }

    [Fact]
    public async Task RunAsync_AbortedAtRandomPointsThenRerun_EveryImageExactlyOnce()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, 200);
        await AbortAtRandomPointsThenRerunAsync(input, output, outputStore, listed, seed: 7);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Process_Sigterm_ExitsInterruptedThenRerunCompletes()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, LabelerSamples.ImageNames.Count, copies: 3);
        // Small batches and channels: the listing is far from complete when the stop arrives.
        var arguments = ProcessArguments(input, output, "--Labeler:BatchSize=4", "--Labeler:ChannelCapacity=16");

        int code;
        LabelingSummary? first;
        using (var labeler = LabelerProcess.Start(arguments))
        {
            await WaitForCommitsAsync(outputStore, labeler, 0);
            labeler.Terminate();
            code = await labeler.WaitForExitAsync();
            first = labeler.Summary();
            Assert.True(code == ExitCodes.Interrupted, labeler.Output);
        }

        Assert.NotNull(first);
        Assert.Equal(LabelingOutcome.Interrupted, first.Outcome);
        Assert.InRange(first.Images, 1, listed.Count - 1);
        var afterStop = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        Assert.Equal(first.Images, afterStop.Views.Select(r => r.Key).Concat(afterStop.Errors.Select(e => e.Key)).Distinct().Count());
        afterStop.AssertNoUncommittedFiles();

        var (rerunCode, second, log) = await LabelerProcess.RunAsync(arguments);

        Assert.True(rerunCode == ExitCodes.Success, log);
        Assert.NotNull(second);
        Assert.Equal(first.Images, second.AlreadyLabeled);
        Assert.Equal(listed.Count - first.Images, second.Images);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 1);
        labels.AssertNoUncommittedFiles();
    }

    [Fact]
    public async Task RunAsync_Incremental_LabelsOnlyNewAndChangedImagesAndANewTeacherGetsItsOwnFolder()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var initial = await LabelerSamples.UploadAsync(inputStore, SmallSet);
        var first = await RunAsync(input, output);

        var second = await RunAsync(input, output);

        Assert.Equal(SmallSet, first.Images);
        Assert.Equal(0, second.Images);
        Assert.Equal(0, second.Commits);
        Assert.Equal(SmallSet, second.AlreadyLabeled);

        // Two new images, and one existing image replaced by other content (new ETag).
        var changedKey = initial[3].Key;
        var added = new[] { "new/a.png", "new/b.png" };
        await inputStore.CreateAsync(added[0], LabelerSamples.Image(SmallSet));
        await inputStore.CreateAsync(added[1], LabelerSamples.Image(SmallSet + 1));
        var replaced = await inputStore.ReplaceAsync(changedKey, LabelerSamples.Image(SmallSet + 2), initial[3].ETag);
        Assert.NotEqual(initial[3].ETag, replaced.ETag);
        var before = await CommittedLabels.ReadAsync(outputStore, TeacherId);

        var third = await RunAsync(input, output);

        var after = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var newlyLabeled = after.Views.Except(before.Views).Select(r => r.Key).Order(StringComparer.Ordinal);
        Assert.Equal(added.Append(changedKey).Order(StringComparer.Ordinal), newlyLabeled);
        Assert.Equal(3, third.Images);
        Assert.Equal(SmallSet - 1, third.AlreadyLabeled);
        Assert.Equal(replaced.ETag, Assert.Single(after.Views, r => r.Key == changedKey && r.ETag != initial[3].ETag).ETag);
        var listed = await ListAsync(inputStore);
        after.AssertExactlyOnce(listed, views: 1, allowStaleETags: true);

        // Another teacher (other weights): its own folder, labels everything, leaves the first untouched.
        var teacherDirectory = await NewLocalFolderAsync();
        var otherRecord = await LabelerSamples.SaveRandomTeacherAsync(teacherDirectory);
        var otherId = LabelerSamples.TeacherId(otherRecord);
        var other = await RunAsync(input, output, teacher: otherRecord);

        Assert.NotEqual(TeacherId, otherId);
        Assert.Equal(otherId, other.Teacher);
        Assert.Equal(listed.Count, other.Images);
        var otherLabels = await CommittedLabels.ReadAsync(outputStore, otherId);
        otherLabels.AssertExactlyOnce(listed, views: 1);
        Assert.Equal(after.CommittedFiles, (await CommittedLabels.ReadAsync(outputStore, TeacherId)).CommittedFiles);
        Assert.All(otherLabels.Metadata.Values, m => Assert.Contains(otherId, m["kddata.teacher"], StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_TwoPartitions_CoverAllKeysDisjointly()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, 60);

        var zero = await RunAsync(input, output, partition: new PartitionOptions { Count = 2, Index = 0 });
        var one = await RunAsync(input, output, partition: new PartitionOptions { Count = 2, Index = 1 });

        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 1);
        Assert.Equal(
            ["partition-0000of0002.json", "partition-0001of0002.json"],
            labels.Manifests.Select(m => m.Key[(m.Key.LastIndexOf('/') + 1)..]).Order(StringComparer.Ordinal));
        var keys = labels.KeysByPartition;
        Assert.Equal(zero.Images, keys[0].Count);
        Assert.Equal(one.Images, keys[1].Count);
        Assert.True(zero.Images > 0 && one.Images > 0, $"partition sizes {zero.Images} and {one.Images}");
        Assert.Empty(keys[0].Intersect(keys[1]));
        Assert.Equal(listed.Select(i => i.Key).Order(StringComparer.Ordinal), keys[0].Concat(keys[1]).Order(StringComparer.Ordinal));
        Assert.All(keys[0], k => Assert.Equal(0, KeyPartitioner.PartitionOf(k, 2)));
        Assert.All(keys[1], k => Assert.Equal(1, KeyPartitioner.PartitionOf(k, 2)));
        Assert.Equal(listed.Count, zero.Listed + one.Listed);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Process_InputLocationMissing_ExitsInvalidConfigurationNamingTheSetting()
    {
        var input = await NewMissingRootLocationAsync();
        var output = await NewLocationAsync("output");

        var (code, summary, log) = await LabelerProcess.RunAsync(ProcessArguments(input, output));

        Assert.True(code == ExitCodes.InvalidConfiguration, log);
        Assert.Null(summary);
        Assert.Contains("Labeler:Input", log, StringComparison.Ordinal);
        Assert.Contains("does not exist", log, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Process_JobCompletionIndexWithoutPartitionIndex_LabelsThatPartition()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var listed = await LabelerSamples.UploadAsync(inputStore, SmallSet);

        var (code, summary, log) = await LabelerProcess.RunAsync(
            ProcessArguments(input, output, "--Labeler:Partition:Count=2"),
            new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "1" });

        Assert.True(code == ExitCodes.Success, log);
        Assert.NotNull(summary);
        Assert.Equal(1, summary.Partition);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var (manifestKey, _) = Assert.Single(labels.Manifests);
        Assert.EndsWith("_manifests/partition-0001of0002.json", manifestKey, StringComparison.Ordinal);
        var expected = listed.Where(i => KeyPartitioner.PartitionOf(i.Key, 2) == 1).ToList();
        Assert.InRange(expected.Count, 1, listed.Count - 1);
        labels.AssertExactlyOnce(expected, views: 1);
    }

    [Fact]
    public async Task RunAsync_BrokenInputs_EachRecordedWithItsReasonAndGoodOnesAccepted()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        var limits = new ImageOptions { MaxPixels = 50_000 };
        var broken = LabelerSamples.BrokenImages(limits.MaxPixels);
        var good = await LabelerSamples.UploadAsync(inputStore, 12);
        foreach (var (key, bytes, _) in broken)
        {
            await inputStore.CreateAsync(key, bytes);
        }

        // A PNG under a .jpg name is a good image: formats are sniffed, not taken from the extension.
        await inputStore.CreateAsync("misnamed/png-as.jpg", LabelerSamples.Image(100));

        var summary = await RunAsync(input, output, limits: limits);

        var listed = await ListAsync(inputStore);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(listed, views: 1);
        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(
            broken.Select(b => (b.Key, b.Reason)).Order(),
            labels.Errors.Select(e => (e.Key, e.Reason)).Order());
        Assert.All(labels.Errors, e => Assert.Equal("decode", e.Stage));
        Assert.All(labels.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Detail)));
        Assert.Equal(good.Select(g => g.Key).Append("misnamed/png-as.jpg").Order(StringComparer.Ordinal), labels.Accepted.Select(r => r.Key).Order(StringComparer.Ordinal));
        Assert.Equal(broken.GroupBy(b => b.Reason).ToDictionary(g => g.Key, g => (long)g.Count()), summary.ErrorsByReason);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Process_MoreErrorsThanMaxErrors_ExitsWithThresholdCodeAndCommitsWhatWasProcessed()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, 20);
        for (var i = 0; i < 5; i++)
        {
            var noise = new byte[100 + i];
            new Random(i).NextBytes(noise);
            noise[0] = 0x42; // never a known image signature
            await inputStore.CreateAsync($"broken/{i}.png", noise);
        }

        var (code, summary, log) = await LabelerProcess.RunAsync(ProcessArguments(input, output, "--Labeler:MaxErrors=2"));

        Assert.True(code == ExitCodes.ErrorThresholdExceeded, log);
        Assert.NotNull(summary);
        Assert.Equal(LabelingOutcome.ErrorThresholdExceeded, summary.Outcome);
        var listed = await ListAsync(inputStore);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        // The error that crossed the threshold is committed with everything before it.
        Assert.Equal(3, labels.Errors.Count);
        Assert.Equal(summary.Images, labels.Errors.Count + labels.Accepted.Count);
        Assert.Equal(3, summary.Errors);
        Assert.All(labels.Errors, e => Assert.Equal("unknown_format", e.Reason));
        var processed = labels.Views.Select(v => v.Key).Concat(labels.Errors.Select(e => e.Key)).ToHashSet(StringComparer.Ordinal);
        labels.AssertExactlyOnce([.. listed.Where(i => processed.Contains(i.Key))], views: 1);
        labels.AssertNoUncommittedFiles();
    }

    [Fact]
    public async Task DuckDb_ReadsCommittedShards_SameNumbersAsOurReaderAndFooterNamesTheTeacher()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, SmallSet);
        await RunAsync(input, output, o =>
        {
            o.ViewsPerImage = 2;
            o.TopK = 5;
            o.MinConfidence = 0.9;
        });
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var folder = await NewLocalFolderAsync();
        var paths = await labels.DownloadAsync(outputStore, folder);
        var duckDb = await DuckDbRunner.GetAsync();

        foreach (var (rows, files) in new[]
                 {
                     (labels.Accepted, paths.Where(p => !p.Key.Contains('/', StringComparison.Ordinal)).Select(p => p.Value).ToList()),
                     (labels.Rejected, paths.Where(p => p.Key.StartsWith("rejected/", StringComparison.Ordinal)).Select(p => p.Value).ToList()),
                 })
        {
            Assert.NotEmpty(files);
            var list = "[" + string.Join(", ", files.Select(DuckDbRunner.Literal)) + "]";
            var row = Assert.Single(await duckDb.QueryAsync($"""
                SELECT count(*)::INTEGER AS n,
                       sum(confidence)::DOUBLE AS confidence_sum,
                       sum(list_extract(topk_classes, 1))::INTEGER AS top1_sum,
                       sum(predicted)::INTEGER AS predicted_sum,
                       sum(len(topk_logits))::INTEGER AS logits_len,
                       sum(len(topk_classes))::INTEGER AS classes_len,
                       count(DISTINCT key)::INTEGER AS keys
                FROM read_parquet({list})
                """));
            Assert.Equal(rows.Count, row.GetProperty("n").GetInt32());
            Assert.Equal(rows.Sum(r => (double)r.Target.Confidence), row.GetProperty("confidence_sum").GetDouble(), 3);
            Assert.Equal(rows.Sum(r => r.Target.TopKClasses[0]), row.GetProperty("top1_sum").GetInt32());
            Assert.Equal(rows.Sum(r => r.Target.Predicted), row.GetProperty("predicted_sum").GetInt32());
            Assert.Equal(rows.Count * 5, row.GetProperty("logits_len").GetInt32());
            Assert.Equal(rows.Count * 5, row.GetProperty("classes_len").GetInt32());
            Assert.Equal(rows.Select(r => r.Key).Distinct().Count(), row.GetProperty("keys").GetInt32());
        }

        // Rejected views use the accepted views' schema.
        var schemas = new List<string>();
        foreach (var file in new[] { paths.First(p => !p.Key.Contains('/', StringComparison.Ordinal)), paths.First(p => p.Key.StartsWith("rejected/", StringComparison.Ordinal)) })
        {
            var columns = await duckDb.QueryAsync($"DESCRIBE SELECT * FROM read_parquet({DuckDbRunner.Literal(file.Value)})");
            schemas.Add(string.Join(", ", columns.Select(c => $"{c.GetProperty("column_name").GetString()} {c.GetProperty("column_type").GetString()}")));
        }

        Assert.Equal(schemas[0], schemas[1]);
        Assert.Contains("topk_logits FLOAT[]", schemas[0], StringComparison.Ordinal);

        var anyFile = DuckDbRunner.Literal(paths.Values.First());
        var metadata = (await duckDb.QueryAsync($"SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata({anyFile})"))
            .ToDictionary(m => m.GetProperty("key").GetString()!, m => m.GetProperty("value").GetString()!);
        using var teacher = JsonDocument.Parse(metadata["kddata.teacher"]);
        Assert.Equal(TeacherId, teacher.RootElement.GetProperty("id").GetString());
        Assert.Equal(LabelingRun.Version, metadata["kddata.labeler_version"]);
        Assert.Equal("5", metadata["kddata.top_k"]);
    }

    [Fact]
    public async Task RunAsync_SoftTargets_EqualTeacherLogitsOfTheSamePreprocessedView()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, 8);
        await RunAsync(input, output, o => o.ViewsPerImage = 3);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        using var teacher = await LoadTeacherAsync(LabelerSamples.TeacherRecord);
        var pre = teacher.Record.Preprocessing!;
        var imageOptions = new ImageOptions
        {
            OutputSize = pre.Width,
            ResizeSize = pre.Width,
            Channels = pre.Channels,
            Mean = pre.Mean,
            Std = pre.Std,
        };
        var decoder = new ImageDecoder(imageOptions);
        var preprocessor = new ImagePreprocessor(imageOptions);

        Assert.Equal(24, labels.Accepted.Count);
        Assert.Contains(labels.Accepted, r => r.Crop.Box.Width < 28);
        foreach (var row in labels.Accepted)
        {
            using var image = decoder.Decode(await inputStore.ReadAllBytesAsync(row.Key), row.Key);
            var pixels = preprocessor.Preprocess(image, row.Crop.Box, row.Crop.FlipHorizontal);
            var logits = teacher.Forward(pixels, 1, pre.Channels, pre.Height, pre.Width);
            var expected = SoftTarget.FromLogits(logits, teacher.ClassCount);

            Assert.Equal(expected.TopKClasses[0], row.Target.Predicted);
            Assert.Equal(expected.LogSumExp, row.Target.LogSumExp, 1e-4f);
            Assert.Equal(expected.Confidence, row.Target.Confidence, 1e-5f);
            for (var k = 0; k < row.Target.K; k++)
            {
                Assert.Equal(logits[row.Target.TopKClasses[k]], row.Target.TopKLogits[k], 1e-4f);
            }
        }
    }

    [Fact]
    public async Task RunAsync_ConfidenceThresholdsAndCaps_RejectAsDocumented()
    {
        var (input, output, inputStore, outputStore) = await NewAreaAsync();
        await LabelerSamples.UploadAsync(inputStore, 80);
        const int Cap = 3;
        var caps = Enumerable.Range(0, 10).ToDictionary(c => c.ToString(CultureInfo.InvariantCulture), _ => Cap);
        caps.Remove("1");
        var classNames = (await LoadRecordAsync()).Classes;

        await RunAsync(input, output, o =>
        {
            o.MinConfidence = 0.7;
            o.ClassThresholds["Trouser"] = 0.2;     // by name
            o.ClassThresholds["8"] = 1.0;           // by index: Bag only when certain
            foreach (var (name, cap) in caps)
            {
                o.ClassCaps[name] = cap;
            }
        });

        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        var listed = await ListAsync(inputStore);
        labels.AssertExactlyOnce(listed, views: 1);
        Assert.Equal("Trouser", classNames[1]);
        float Threshold(int c) => c switch { 1 => 0.2f, 8 => 1.0f, _ => 0.7f };
        Assert.NotEmpty(labels.Rejected);
        Assert.NotEmpty(labels.Accepted);
        Assert.All(labels.Accepted, r => Assert.True(r.Target.Confidence >= Threshold(r.Target.Predicted), $"{r.Key} accepted at {r.Target.Confidence}"));
        for (var c = 0; c < 10; c++)
        {
            var eligible = labels.Views.Count(r => r.Target.Predicted == c && r.Target.Confidence >= Threshold(c));
            var accepted = labels.Accepted.Count(r => r.Target.Predicted == c);
            Assert.Equal(c == 1 ? eligible : Math.Min(Cap, eligible), accepted);
        }

        Assert.Contains(labels.Rejected, r => r.Target.Confidence >= Threshold(r.Target.Predicted)); // rejected by a cap
        Assert.Contains(labels.Rejected, r => r.Target.Confidence < Threshold(r.Target.Predicted)); // rejected by a threshold
        Assert.Equal(labels.Metadata.First(m => !m.Key.Contains('/', StringComparison.Ordinal)).Value["kddata.thresholds"],
            labels.Metadata.First(m => m.Key.StartsWith("rejected/", StringComparison.Ordinal)).Value["kddata.thresholds"]);
    }

    [Fact]
    public async Task Constructor_ClassThresholdNamingNoClass_ThrowsNamingTheSetting()
    {
        using var teacher = await LoadTeacherAsync(LabelerSamples.TeacherRecord);
        var options = Options("file:/in/", "file:/out/", o => o.ClassThresholds["Sock"] = 0.5);

        var e = Assert.Throws<ArgumentException>(() => new LabelingRun(Factory, teacher, options, new PartitionOptions(), new ImageOptions()));

        Assert.Contains("Labeler:ClassThresholds:Sock", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The sample teacher's id.</summary>
    protected static string TeacherId { get; } = LabelerSamples.TeacherId(LabelerSamples.TeacherRecord);

    /// <summary>Settings of fast in-process runs: small batches and shards, frequent commits.</summary>
    protected static LabelingOptions Options(string input, string output, Action<LabelingOptions>? configure = null)
    {
        var options = new LabelingOptions
        {
            Input = input,
            Output = output,
            Teacher = LabelerSamples.TeacherRecord,
            BatchSize = 16,
            FetchConcurrency = 8,
            DecodeWorkers = 2,
            ChannelCapacity = 32,
            MaxRowsPerShard = 10,
            CommitInterval = TimeSpan.FromMilliseconds(200),
        };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>One in-process run to the end; <paramref name="time"/> is its clock (lease, commit interval, outage probes), the system clock when null.</summary>
    protected async Task<LabelingSummary> RunAsync(
        string input, string output, Action<LabelingOptions>? configure = null, PartitionOptions? partition = null, ImageOptions? limits = null, string? teacher = null, ObjectStoreFactory? factory = null, TimeProvider? time = null)
    {
        using var model = await LoadTeacherAsync(teacher ?? LabelerSamples.TeacherRecord);
        var run = new LabelingRun(factory ?? Factory, model, Options(input, output, configure), partition ?? new PartitionOptions(), limits ?? new ImageOptions(), timeProvider: time);
        return await run.RunAsync();
    }

    /// <summary>
    /// Four runs (2 views) aborted at once at random points, then one run to the end: every image of
    /// <paramref name="expected"/> must be committed exactly once, whatever the aborts cut.
    /// </summary>
    protected async Task AbortAtRandomPointsThenRerunAsync(string input, string output, IObjectStore outputStore, IReadOnlyCollection<ObjectInfo> expected, int seed)
    {
        var random = new Random(seed);
        using (var teacher = await LoadTeacherAsync(LabelerSamples.TeacherRecord))
        {
            for (var round = 0; round < 4; round++)
            {
                using var abort = new CancellationTokenSource(TimeSpan.FromMilliseconds(random.Next(50, 1500)));
                var run = new LabelingRun(Factory, teacher, Options(input, output, o => o.ViewsPerImage = 2), new PartitionOptions(), new ImageOptions());
                try
                {
                    await run.RunAsync(abort: abort.Token);
                }
                catch (Exception e) when (abort.IsCancellationRequested && e is OperationCanceledException or StageFailedException or ObjectStoreException)
                {
                    // Stopped at once: whatever was not committed is redone by the next run.
                }
            }
        }

        var summary = await RunAsync(input, output, o => o.ViewsPerImage = 2);

        Assert.Equal(LabelingOutcome.Completed, summary.Outcome);
        Assert.Equal(expected.Count, summary.AlreadyLabeled + summary.Images);
        var labels = await CommittedLabels.ReadAsync(outputStore, TeacherId);
        labels.AssertExactlyOnce(expected, views: 2);
        labels.AssertNoUncommittedFiles();
    }

    protected async Task<InferenceModel> LoadTeacherAsync(string record) => await InferenceModel.LoadAsync(Factory, record, CPU);

    protected async Task<(string Input, string Output, IObjectStore InputStore, IObjectStore OutputStore)> NewAreaAsync()
    {
        var input = await NewLocationAsync("input");
        var output = await NewLocationAsync("output");
        return (input, output, Factory.Open(input), Factory.Open(output));
    }

    protected static async Task<IReadOnlyList<ObjectInfo>> ListAsync(IObjectStore store) => await store.ListAllAsync().ToListAsync();

    /// <summary>A local temp folder removed with the test's other resources.</summary>
    protected abstract Task<string> NewLocalFolderAsync();

    protected List<string> ProcessArguments(string input, string output, params string[] extra) =>
    [
        $"--Labeler:Input={input}",
        $"--Labeler:Output={output}",
        $"--Labeler:Teacher={LabelerSamples.TeacherRecord}",
        "--Labeler:CommitInterval=00:00:00.2",
        "--Labeler:BatchSize=16",
        "--Labeler:MaxRowsPerShard=50",
        "--Labeler:DecodeWorkers=2",
        .. StorageArguments,
        .. extra,
    ];

    private static async Task<int> CommitCountAsync(IObjectStore output)
    {
        var count = 0;
        try
        {
            await foreach (var item in output.ListAllAsync($"teacher={TeacherId}/_manifests/"))
            {
                count += PartitionManifest.Parse(await output.ReadAllBytesAsync(item.Key), item.Key).Commits.Count;
            }
        }
        catch (StoreNotFoundException)
        {
            // The Labeler has not written anything yet (its first write creates the output location).
        }

        return count;
    }

    private static async Task WaitForCommitsAsync(IObjectStore output, LabelerProcess labeler, int before)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!labeler.HasExited && await CommitCountAsync(output) <= before)
        {
            await Task.Delay(25, timeout.Token);
        }
    }

    private static async Task<KdData.Models.CheckpointRecord> LoadRecordAsync() =>
        KdData.Models.CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(LabelerSamples.TeacherRecord));
}
