using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Models;
using KdData.Records;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Records;

/// <summary>
/// Records written before the records had types (the committed sample's teacher, and the fixtures in
/// <c>Fixtures/LegacyRecords</c>) read through the types: every member lands in a typed property, and writing them
/// back gives the same JSON apart from the version stamp and the null members the types leave out.
/// </summary>
public sealed class LegacyRecordTests
{
    public static TheoryData<string> CheckpointFixtures() => [.. LegacyRecords.Checkpoints];

    [Fact]
    public async Task LoadAsync_CommittedSampleTeacher_ReadsResumeStateThroughTypes()
    {
        using var teacher = await CheckpointSerializer.LoadAsync(LabelerSamples.TeacherRecord);

        var training = teacher.Record.Training;
        Assert.Equal(1, teacher.Record.FormatVersion);
        Assert.Equal("adamw", training.Options!.Optimizer);
        Assert.Equal(30, training.Options.Settings!["epochs"].GetInt32());
        Assert.Equal(JsonValueKind.Null, training.Options.Settings["learning_rate"].ValueKind);
        var state = TrainerState.ReadFrom(training, LabelerSamples.TeacherRecord);
        Assert.Equal((30, true, 47, 30, 0.8666), (state.Epoch, state.EpochComplete, state.StepsInEpoch, state.BestEpoch, state.BestEvalAccuracy));
        Assert.Equal("last.optimizer.4bd57df06ebf41fc8a8dfb729c111695.bin", state.OptimizerStateFile);
        Assert.Equal("212f6a93b2f119f037d14d397d7f8d123e8b371289ffe11e84c18fbafd274056", state.OptimizerSha256);
        Assert.Null(training.Lineage);
        Assert.Null(training.Other);
    }

    [Fact]
    public void SerializeRecord_CommittedSampleTeacher_WritesTheSameJson()
    {
        var legacy = JsonNode.Parse(File.ReadAllText(LabelerSamples.TeacherRecord));

        var rewritten = JsonNode.Parse(CheckpointSerializer.SerializeRecord(CheckpointSerializer.ParseRecord(File.ReadAllBytes(LabelerSamples.TeacherRecord))));

        // Exactly the same, nulls of the options snapshot (learning_rate, warmup_steps) included.
        Assert.True(JsonNode.DeepEquals(legacy, rewritten), rewritten!.ToJsonString());
    }

    [Fact]
    public void ParseRecord_MinimalHandWrittenRecord_ReadsEveryDefault()
    {
        // What a record written by hand may leave out; the defaults are the types' own, not 0 or null.
        var json = $$"""{ "architecture": { "name": "convnet" }, "preprocessing": {}, "weights_sha256": "{{new string('0', 64)}}" }""";

        var record = CheckpointSerializer.ParseRecord(System.Text.Encoding.UTF8.GetBytes(json));

        Assert.Equal((RecordFormat.Legacy, 10, 3), (record.FormatVersion, record.Architecture.NumClasses, record.Architecture.InChannels));
        Assert.Equal((32, 32, 3), (record.Preprocessing!.Width, record.Preprocessing.Height, record.Preprocessing.Channels));
        Assert.Empty(record.Preprocessing.Mean);
        Assert.Empty(record.Classes);
        Assert.Empty(record.Metrics);
        Assert.Null(record.Training.Epoch);
        Assert.Equal(WeightsFormat.Safetensors, record.WeightsFormat);
    }

    [Theory]
    [MemberData(nameof(CheckpointFixtures))]
    public void ParseRecord_LegacyCheckpoint_EveryMemberLandsInATypedProperty(string fixture)
    {
        var record = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes(fixture));

        Assert.Null(record.Training.Other);
        Assert.NotNull(record.Training.Lineage);
        Assert.Null(record.Training.Lineage.Other);
        Assert.Equal(RecordFormat.Legacy, record.Training.Lineage.FormatVersion);
        Assert.NotNull(record.Training.Lineage.Stage);
    }

    [Theory]
    [MemberData(nameof(CheckpointFixtures))]
    public void SerializeRecord_LegacyCheckpoint_WritesTheSameJsonWithVersionedLineage(string fixture)
    {
        var legacy = LegacyRecords.Json(fixture);

        var rewritten = JsonNode.Parse(CheckpointSerializer.SerializeRecord(CheckpointSerializer.ParseRecord(LegacyRecords.Bytes(fixture))))!;

        Assert.Equal(1, rewritten["training"]!["lineage"]!["format_version"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(LegacyRecords.Comparable(legacy), LegacyRecords.Comparable(rewritten)), rewritten.ToJsonString());
    }

    [Fact]
    public void ParseRecord_LegacyOnlineDistill_ReadsRepresentationFileAndOnlineTeacher()
    {
        var record = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("distill-online-last.json"));

        var representation = record.Training.Representation!;
        Assert.Equal("last.representation.bin", representation.File);
        Assert.Equal("79832fb9e3f89f1d7c108940619009223f46979dda8408ce8c07f9a3a26aa5da", representation.Sha256);
        Assert.Equal(120, representation.Terms!["crd"].GetProperty("bank_size").GetInt32());
        Assert.Equal(["hint", "crd"], record.Training.Lineage!.Representation);
        Assert.Equal("online", record.Training.Lineage.TeacherMode);
        Assert.Equal("343ea00c39c3c068", record.Training.Lineage.OnlineTeacher!.Id);
        Assert.Equal("kd", record.Training.Objective);
        Assert.Equal(508_352, record.Training.Model!.Macs);
    }

    [Fact]
    public void ParseRecord_LegacyPruneRecords_ReadParentAsPathAndTheCut()
    {
        var start = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("prune-start.json"));
        var last = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("prune-last.json"));

        Assert.Equal("prune", start.Training.Stage);
        var lineage = start.Training.Lineage!;
        Assert.Equal(new ParentCheckpoint { Path = "/tmp/legacy-records/out/kd/last.json" }, lineage.Parent);
        Assert.Equal("c12342a8e592ecae8292e74c53834896b1fe16ce0856161621b1193ba6e20b22", lineage.ParentSha256);
        Assert.Equal([8, 16, 32], lineage.ChannelsBefore);
        Assert.Equal([6, 13, 29], lineage.ChannelsAfter);
        Assert.Equal(346_475, lineage.CostAfter);
        // The fine-tune's lineage names the cut model as its parent and adds the data part.
        Assert.Null(last.Training.Lineage!.Parent!.Id);
        Assert.EndsWith("step-1/start.json", last.Training.Lineage.Parent.Path, StringComparison.Ordinal);
        Assert.Equal("343ea00c39c3c068", Assert.Single(last.Training.Lineage.ShardSets!).TeacherId);
    }

    [Fact]
    public void ParseRecord_LegacyQatRecords_ReadParentWithIdAndRanges()
    {
        var qat = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("qat-checkpoint.json"));
        var loop = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("qat-loop-last.json"));

        Assert.Equal("qat", qat.Training.Stage);
        Assert.Equal("343ea00c39c3c068", qat.Training.Parent!.Id);
        Assert.Equal(1, qat.Training.Epochs);
        Assert.Equal("model.int8.onnx", qat.Training.Int8Model);
        Assert.Equal([-0.8101984f, 2.022663f], qat.Training.ActivationRanges!["input"]);
        Assert.Equal(qat.Training.Parent, loop.Training.Lineage!.Parent);
        Assert.Equal("minmax", loop.Training.Lineage.InitialRanges);
        Assert.Equal("adamw", loop.Training.Options!.Optimizer);
    }

    [Fact]
    public void ParseRecord_LegacyExportedRecord_ReadsExportEntry()
    {
        var record = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("export-model.json"));

        var export = record.Training.Export!;
        Assert.Equal(("export", "/tmp/legacy-records/out/prune/pruned.json", "model.onnx", 17L), (export.Stage, export.Parent, export.Onnx, export.Opset!.Value));
        Assert.Equal("78bad4309bbe7d14621f212e3b09982eeae91d88650e0cb09da420564152dd3e", export.ParentWeightsSha256);
    }

    [Theory]
    [InlineData("quantization-ptq.json")]
    [InlineData("quantization-qat.json")]
    public void ParseQuantizationReport_LegacyReport_ReadsAndWritesTheSameJson(string fixture)
    {
        var report = RecordJson.ParseQuantizationReport(LegacyRecords.Bytes(fixture));

        Assert.Equal(RecordFormat.Legacy, report.FormatVersion);
        Assert.Equal(200, report.Images);
        Assert.Equal(4, report.Calibration.Ranges.Count);
        Assert.Equal("AVX-512 VNNI", report.Cpu!.Level);
        Assert.True(report.AgreementCheck!.Passed);
        var rewritten = JsonNode.Parse(RecordJson.Serialize(report))!;
        Assert.Equal(1, rewritten["format_version"]!.GetValue<int>());
        rewritten.AsObject().Remove("format_version");
        Assert.True(JsonNode.DeepEquals(LegacyRecords.Json(fixture), rewritten), rewritten.ToJsonString());
    }

    [Fact]
    public void ParseQuantizationReport_LegacyPtqAndQat_TellThemApart()
    {
        var ptq = RecordJson.ParseQuantizationReport(LegacyRecords.Bytes("quantization-ptq.json"));
        var qat = RecordJson.ParseQuantizationReport(LegacyRecords.Bytes("quantization-qat.json"));

        Assert.Null(ptq.Qat);
        Assert.Equal(("Percentile", 99.99), (ptq.Calibration.Method, ptq.Calibration.Percentile!.Value));
        Assert.Equal(1, qat.Qat!.Epochs);
        Assert.Equal("343ea00c39c3c068", qat.Qat.Parent.Id);
        Assert.Null(qat.Calibration.Percentile);
        Assert.Null(qat.Calibration.HistogramBins);
    }

    [Fact]
    public void ParseExportReport_LegacyReport_ReadsLineageAndWritesTheSameJson()
    {
        var report = RecordJson.ParseExportReport(LegacyRecords.Bytes("export.json"));

        Assert.Equal(RecordFormat.Legacy, report.FormatVersion);
        Assert.Equal("prune", report.Lineage!.Stage);
        Assert.Null(report.Lineage.Other);
        Assert.Equal(7, report.Quantized!.WeightBits);
        Assert.Equal(3, report.Variants.Count);
        var rewritten = JsonNode.Parse(RecordJson.Serialize(report))!;
        Assert.Equal(1, rewritten["format_version"]!.GetValue<int>());
        Assert.Equal(1, rewritten["lineage"]!["format_version"]!.GetValue<int>());
        rewritten.AsObject().Remove("format_version");
        Assert.True(JsonNode.DeepEquals(LegacyRecords.Comparable(LegacyRecords.Json("export.json")), LegacyRecords.Comparable(rewritten)), rewritten.ToJsonString());
    }
}
