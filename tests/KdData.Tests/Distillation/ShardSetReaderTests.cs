using KdData.Distillation;
using KdData.Hosting;
using KdData.Models;
using KdData.SoftTargets;
using KdData.Storage;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Distillation;

public sealed class ShardSetReaderTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly PreprocessingRecord Preprocessing = new() { Width = 28, Height = 28, Channels = 1, Mean = [0.286f], Std = [0.353f] };

    private readonly ShardSetFolder _set = new();

    public void Dispose() => _set.Dispose();

    [Fact]
    public async Task ReadAsync_UnlistedLeftoverFile_IsIgnored()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f), ShardSetFolder.Row("b.png", 1, 0.8f)]);
        // A killed run wrote the next shard but never committed it.
        await _set.WriteAsync("part-0000of0001-000001.parquet", [ShardSetFolder.Row("c.png", 2, 0.7f)]);
        await _set.WriteAsync("rejected/part-0000of0001-000001.parquet", [ShardSetFolder.Row("d.png", 2, 0.1f)]);

        var result = await ReadAsync(o => o.IncludeRejected = true);

        Assert.Equal(["a.png", "b.png"], result.Rows.Select(r => r.Key));
        Assert.Equal(1, result.Sets.Single().Files);
    }

    [Fact]
    public async Task ReadAsync_KeyRelabeledInLaterCommit_OnlyLatestCommitsRowsRemain()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 2, 0.9f, view: 0), ShardSetFolder.Row("a.png", 2, 0.8f, view: 1), ShardSetFolder.Row("b.png", 1, 0.8f)]);
        // The blob was replaced (new ETag) and labeled again: one view accepted, the other rejected.
        await _set.CommitRowsAsync(
            T0.AddMinutes(5),
            [ShardSetFolder.Row("a.png", 0, 0.7f, view: 0, etag: "\"e2\"")],
            rejected: [ShardSetFolder.Row("a.png", 1, 0.2f, view: 1, etag: "\"e2\"")]);

        var result = await ReadAsync();

        var a = Assert.Single(result.Rows, r => r.Key == "a.png");
        Assert.Equal(("\"e2\"", 0, 0), (a.ETag, a.View, a.Predicted));
        Assert.Equal(2, result.Report.Classes[2].Superseded);
        Assert.Equal(1, result.Report.Classes[1].Rejected);
        Assert.Equal(0, result.Report.Classes[1].IncludedRejected);
        Assert.Equal(2, result.Rows.Count);
    }

    [Fact]
    public async Task ReadAsync_RelabeledWithRejectedIncluded_KeepsAllViewsOfTheLatestCommit()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 2, 0.9f, view: 0), ShardSetFolder.Row("a.png", 2, 0.8f, view: 1)]);
        await _set.CommitRowsAsync(
            T0.AddMinutes(5),
            [ShardSetFolder.Row("a.png", 0, 0.7f, view: 0, etag: "\"e2\"")],
            rejected: [ShardSetFolder.Row("a.png", 1, 0.2f, view: 1, etag: "\"e2\"")]);

        var result = await ReadAsync(o => o.IncludeRejected = true);

        Assert.Equal([(0, "\"e2\"", false), (1, "\"e2\"", true)], result.Rows.Select(r => (r.View, r.ETag, r.FromRejected)));
    }

    [Fact]
    public async Task ReadAsync_UnreadableThenLabeled_LabeledRowWins()
    {
        await _set.CommitAsync(T0, errors: await _set.WriteErrorsAsync("errors/part-0000of0001-000000.parquet", "a.png"));
        await _set.CommitRowsAsync(T0.AddMinutes(1), [ShardSetFolder.Row("a.png", 1, 0.9f)]);

        var result = await ReadAsync();

        Assert.Equal("a.png", Assert.Single(result.Rows).Key);
        Assert.Equal(0, result.Report.ErrorImages);
    }

    [Fact]
    public async Task ReadAsync_LatestCommitIsAnError_OlderRowsAreDropped()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 1, 0.9f), ShardSetFolder.Row("b.png", 1, 0.9f)]);
        await _set.CommitAsync(T0.AddMinutes(1), errors: await _set.WriteErrorsAsync("errors/part-0000of0001-000001.parquet", "a.png"));

        var result = await ReadAsync();

        Assert.Equal("b.png", Assert.Single(result.Rows).Key);
        Assert.Equal(1, result.Report.ErrorImages);
        Assert.Equal(1, result.Report.Superseded);
    }

    [Fact]
    public async Task ReadAsync_ClockSteppedBackWithinPartition_SequenceDecides()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 1, 0.9f)]);
        await _set.CommitRowsAsync(T0.AddMinutes(-10), [ShardSetFolder.Row("a.png", 2, 0.6f, etag: "\"e2\"")]);

        var result = await ReadAsync();

        Assert.Equal("\"e2\"", Assert.Single(result.Rows).ETag);
    }

    [Fact]
    public async Task ReadAsync_SameKeyInTwoPartitions_LaterCommitTimeWins()
    {
        await _set.CommitRowsAsync(T0.AddMinutes(2), [ShardSetFolder.Row("a.png", 1, 0.9f, etag: "\"late\"")], partition: 0, partitionCount: 2);
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 2, 0.9f, etag: "\"early\"")], partition: 1, partitionCount: 2);

        var result = await ReadAsync();

        Assert.Equal("\"late\"", Assert.Single(result.Rows).ETag);
    }

    [Fact]
    public async Task ReadAsync_ClassesDiffer_ThrowsNamingTheFile()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f)]);
        var file = await _set.WriteAsync("part-0000of0001-000001.parquet", [ShardSetFolder.Row("b.png", 0, 0.9f)], _set.Footer(classes: ["c0", "c2", "c1"]));
        await _set.CommitAsync(T0.AddMinutes(1), accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
        Assert.Contains("c0, c2, c1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_PreprocessingDiffers_ThrowsNamingTheFile()
    {
        var file = await _set.WriteAsync("part-0000of0001-000000.parquet", [ShardSetFolder.Row("a.png", 0, 0.9f)], _set.Footer(mean: 0.5f));
        await _set.CommitAsync(T0, accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
        Assert.Contains("preprocessing", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_PreprocessingNotGiven_SkipsThatCheck()
    {
        var file = await _set.WriteAsync("part-0000of0001-000000.parquet", [ShardSetFolder.Row("a.png", 0, 0.9f)], _set.Footer(mean: 0.5f));
        await _set.CommitAsync(T0, accepted: file);

        var result = await new ShardSetReader(TestStores.Factory(), Options()).ReadAsync(ShardSetFolder.Classes, preprocessing: null);

        Assert.Single(result.Rows);
    }

    [Fact]
    public async Task ReadAsync_ShardsDisagreeOnTeacher_ThrowsNamingTheFile()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f)]);
        var file = await _set.WriteAsync("part-0000of0001-000001.parquet", [ShardSetFolder.Row("b.png", 0, 0.9f)], _set.Footer(teacherId: "fedcba9876543210"));
        await _set.CommitAsync(T0.AddMinutes(1), accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
        Assert.Contains("fedcba9876543210", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not parquet at all")]
    [InlineData("PAR1 truncated PAR1")]
    public async Task ReadAsync_MalformedFile_ThrowsNamingTheFile(string content)
    {
        var file = await _set.WriteBytesAsync("part-0000of0001-000000.parquet", System.Text.Encoding.ASCII.GetBytes(content));
        await _set.CommitAsync(T0, accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ParquetWithoutSoftTargetColumns_ThrowsNamingTheFile()
    {
        // An error table is valid Parquet, but not a soft-target shard.
        var file = await _set.WriteErrorsAsync("part-0000of0001-000000.parquet", "a.png");
        await _set.CommitAsync(T0, accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_FooterWithoutTeacher_ThrowsNamingTheFile()
    {
        var footer = _set.Footer();
        footer.Remove("kddata.teacher");
        var file = await _set.WriteAsync("part-0000of0001-000000.parquet", [ShardSetFolder.Row("a.png", 0, 0.9f)], footer);
        await _set.CommitAsync(T0, accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
        Assert.Contains("kddata.teacher", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_MalformedManifest_ThrowsNamingIt()
    {
        await _set.Store.CreateAsync(_set.TeacherFolder + "_manifests/partition-0000of0001.json", "{ not json"u8.ToArray());

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + "_manifests/partition-0000of0001.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ManifestNamesMissingFile_ThrowsNamingFileAndManifest()
    {
        await _set.CommitAsync(T0, accepted: "part-0000of0001-000000.parquet");

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.TeacherFolder + "part-0000of0001-000000.parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains("partition-0000of0001.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ManifestNamesAnInvalidKey_ThrowsNamingTheManifest()
    {
        await _set.CommitAsync(T0, accepted: "../outside.parquet");

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains("partition-0000of0001.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("../outside.parquet", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_NoLabelerOutput_ThrowsSayingToRunTheLabeler()
    {
        var missing = Path.Combine(Path.GetTempPath(), "kd-no-labels-" + Guid.NewGuid().ToString("N")) + "/";

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync(o => o.Locations.Add(missing)));

        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project src/Labeler", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_OnlyErrorsCommitted_ThrowsSayingTheSetIsEmpty()
    {
        await _set.CommitAsync(T0, errors: await _set.WriteErrorsAsync("errors/part-0000of0001-000000.parquet", "a.png"));

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains(_set.Root + _set.TeacherFolder, e.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project src/Labeler", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_RootWithTwoTeachers_ThrowsAskingToNameOne()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f)]);
        await _set.Store.CreateAsync("teacher=fedcba9876543210/_manifests/partition-0000of0001.json", new PartitionManifest { Teacher = "fedcba9876543210" }.ToJson());

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());

        Assert.Contains("teacher=fedcba9876543210/", e.Message, StringComparison.Ordinal);
        Assert.Contains(_set.TeacherFolder, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_TeacherFolderGivenDirectly_ReadsIt()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f)]);

        var result = await ReadAsync(o => o.Locations.Add(_set.Root + _set.TeacherFolder));

        Assert.Single(result.Rows);
        Assert.Equal(_set.TeacherId, result.Sets.Single().TeacherId);
        Assert.Equal((3, 2, "Stretch"), (result.Sets[0].TopK, result.Sets[0].ViewsPerImage, result.Sets[0].ResizeMode));
    }

    /// <summary>Class 0: 0.9, 0.8, 0.7, 0.3; class 1: 0.95, 0.6; class 2: 0.5 and 0.45. Min confidence 0.4 and
    /// 0.7 for class 1 leave 0: 0.9, 0.8, 0.7; 1: 0.95; 2: 0.5, 0.45 before the caps.</summary>
    [Theory]
    [InlineData("none", null, "a0,a1,a2,b0,c0,c1")]
    [InlineData("2", null, "a0,a1,b0,c0,c1")]
    [InlineData("balance", null, "a0,b0,c0")]
    [InlineData("balance", 2, "a0,a1,b0,c0")]
    [InlineData("0", 1, "a0")]
    public async Task ReadAsync_ThresholdsAndCaps_KeepTheMostConfidentRowsPerClass(string classCap, int? class0Cap, string expected)
    {
        await _set.CommitRowsAsync(T0, [
            ShardSetFolder.Row("a2", 0, 0.7f), ShardSetFolder.Row("a0", 0, 0.9f), ShardSetFolder.Row("a3", 0, 0.3f), ShardSetFolder.Row("a1", 0, 0.8f),
            ShardSetFolder.Row("b1", 1, 0.6f), ShardSetFolder.Row("b0", 1, 0.95f),
            ShardSetFolder.Row("c1", 2, 0.45f), ShardSetFolder.Row("c0", 2, 0.5f)]);

        var result = await ReadAsync(o =>
        {
            o.MinConfidence = 0.4;
            o.ClassThresholds["c1"] = 0.7;
            o.ClassCap = classCap;
            if (class0Cap is { } cap)
            {
                o.ClassCaps["0"] = cap;
            }
        });

        Assert.Equal(expected, string.Join(',', result.Rows.Select(r => r.Key)));
        var report = result.Report;
        Assert.Equal([1, 1, 0], report.Classes.Select(c => c.BelowThreshold));
        Assert.Equal([0.4, 0.7, 0.4], report.Classes.Select(c => c.Threshold));
        Assert.Equal(8, report.Accepted);
        Assert.Equal(report.Accepted, report.BelowThreshold + report.OverCap + report.Kept);
        Assert.Equal(result.Rows.Count, report.Kept);
    }

    [Fact]
    public void ToTable_Report_OneLinePerClassBetweenHeaderAndTotal()
    {
        var report = new SelectionReport(
            [new ClassSelection("T-shirt/top", 10, 4, 4, 1, 3, 2, 0.5, 9, 9), new ClassSelection("Bag", 5, 0, 0, 0, 0, 0, 0.5, null, 5)], IncludeRejected: true, ErrorImages: 2);

        var lines = report.ToTable().Split(Environment.NewLine);

        Assert.Equal(4, lines.Length);
        Assert.StartsWith("class", lines[0], StringComparison.Ordinal);
        Assert.Equal(["T-shirt/top", "10", "4", "4", "1", "3", "0.5", "2", "9", "9"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["total", "15", "4", "4", "1", "3", "2", "14"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ReadAsync_RejectedRows_TakenOnlyWhenAskedAndThenThresholded()
    {
        await _set.CommitRowsAsync(
            T0,
            [ShardSetFolder.Row("a", 0, 0.9f)],
            rejected: [ShardSetFolder.Row("r1", 1, 0.35f), ShardSetFolder.Row("r2", 1, 0.2f)]);

        var without = await ReadAsync(o => o.MinConfidence = 0.3);
        var with = await ReadAsync(o => { o.MinConfidence = 0.3; o.IncludeRejected = true; });

        Assert.Equal(["a"], without.Rows.Select(r => r.Key));
        Assert.Equal(["a", "r1"], with.Rows.Select(r => r.Key));
        Assert.True(with.Rows[1].FromRejected);
        Assert.Equal((2, 2, 1), (with.Report.Classes[1].Rejected, with.Report.Classes[1].IncludedRejected, with.Report.Classes[1].BelowThreshold));
        Assert.Equal((2, 0), (without.Report.Classes[1].Rejected, without.Report.Classes[1].IncludedRejected));
    }

    [Fact]
    public async Task ReadAsync_RulesKeepNothing_ThrowsWithTheTable()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a", 0, 0.5f)]);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync(o => o.MinConfidence = 0.9));

        Assert.Contains("kept", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_UnknownClassInSettings_ThrowsNamingTheSetting()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a", 0, 0.5f)]);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync(o => o.ClassCaps["Sock"] = 3));

        Assert.Contains("Trainer:Distill:Shards:ClassCaps:Sock", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_TwoSets_AreMergedAndTheLaterCommitWinsForASharedImage()
    {
        using var other = new ShardSetFolder("fedcba9876543210", imageRoot: _set.ImageRoot);
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f), ShardSetFolder.Row("shared.png", 0, 0.9f)]);
        await other.CommitRowsAsync(T0.AddMinutes(1), [ShardSetFolder.Row("b.png", 1, 0.8f), ShardSetFolder.Row("shared.png", 2, 0.7f, etag: "\"other\"")]);

        var result = await ReadAsync(o => { o.Locations.Add(_set.Root); o.Locations.Add(other.Root); });

        Assert.Equal(["a.png", "b.png", "shared.png"], result.Rows.Select(r => r.Key));
        Assert.Equal("\"other\"", result.Rows[2].ETag);
        Assert.Equal([_set.TeacherId, other.TeacherId], result.Sets.Select(s => s.TeacherId));
        Assert.Single(result.Sources);
    }

    [Fact]
    public async Task ReadAsync_ImageRoot_FromFooterUnlessOverridden()
    {
        await _set.CommitRowsAsync(T0, [ShardSetFolder.Row("a.png", 0, 0.9f)]);
        var elsewhere = Directory.CreateTempSubdirectory("kd-images-").FullName;
        try
        {
            var fromFooter = await ReadAsync();
            var overridden = await ReadAsync(o => { o.ImageRoot = "/unused/"; o.ImageRootOverride = elsewhere; });

            Assert.Equal(_set.ImageRoot, fromFooter.StoreOf(fromFooter.Rows[0]).Location.ToString());
            Assert.Equal(elsewhere + "/", overridden.StoreOf(overridden.Rows[0]).Location.ToString());
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task ReadAsync_FooterWithoutInput_NeedsImageRoot()
    {
        var file = await _set.WriteAsync("part-0000of0001-000000.parquet", [ShardSetFolder.Row("a.png", 0, 0.9f)], _set.Footer(withInput: false));
        await _set.CommitAsync(T0, accepted: file);

        var e = await Assert.ThrowsAsync<InvalidInputException>(() => ReadAsync());
        var result = await ReadAsync(o => o.ImageRoot = _set.ImageRoot);

        Assert.Contains(_set.TeacherFolder + file, e.Message, StringComparison.Ordinal);
        Assert.Contains("Trainer:Distill:Shards:ImageRoot", e.Message, StringComparison.Ordinal);
        Assert.Equal(_set.ImageRoot, result.Sources.Single().Location);
    }

    private ShardSelectionOptions Options(Action<ShardSelectionOptions>? configure = null)
    {
        var options = new ShardSelectionOptions();
        configure?.Invoke(options);
        if (options.Locations.Count == 0)
        {
            options.Locations.Add(_set.Root);
        }

        return options;
    }

    private Task<PseudoLabelSet> ReadAsync(Action<ShardSelectionOptions>? configure = null) =>
        new ShardSetReader(TestStores.Factory(), Options(configure)).ReadAsync(ShardSetFolder.Classes, Preprocessing);
}
