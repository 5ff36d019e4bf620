using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using KdData.Distillation;
using KdData.Export;
using KdData.Models;
using KdData.Records;
using KdData.Training;

namespace KdData.Tests.Records;

/// <summary>Every record type written and read back through its type, with its version.</summary>
public sealed class RecordRoundTripTests
{
    [Fact]
    public void SerializeRecord_EveryTrainingMember_RoundTripsByteForByte()
    {
        var record = FullCheckpointRecord();

        var json = CheckpointSerializer.SerializeRecord(record);
        var parsed = CheckpointSerializer.ParseRecord(json);

        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(CheckpointSerializer.SerializeRecord(parsed)));
        var training = parsed.Training;
        Assert.Equal(("qat", "adamw", 4, false, 7, 3, 0.75), (training.Stage, training.Options!.Optimizer, training.Epoch, training.EpochComplete!.Value, training.StepsInEpoch!.Value, training.BestEpoch!.Value, training.BestEvalAccuracy!.Value));
        Assert.Equal(("last.optimizer.x.bin", "ab"), (training.OptimizerState, training.OptimizerSha256));
        Assert.Equal(("last.representation.bin", "cd"), (training.Representation!.File, training.Representation.Sha256));
        Assert.Equal(["hint"], training.Representation.Terms!["terms"].EnumerateArray().Select(t => t.GetString()));
        Assert.Equal([0f, 6.5f], training.ActivationRanges!["relu"]);
        Assert.Equal(new ParentCheckpoint { Path = "teacher.json", Id = "0123456789abcdef" }, training.Parent);
        Assert.Equal((1234L, (long?)5678L), (training.Model!.Parameters, training.Model.Macs));
        Assert.Equal("f00d", training.Export!.OnnxSha256);
        Assert.Equal("python", training.Other!["written_by"].GetString());
        var lineage = training.Lineage!;
        Assert.Equal(("distill", "file:data/", "online"), (lineage.Stage, lineage.Dataset, lineage.TeacherMode));
        Assert.Equal(new ShardSetInfo("labels/teacher=a/", "a", null, "teacher.json", 10, null, 2, 1, 3, 4), Assert.Single(lineage.ShardSets!));
        Assert.Equal(4.0, lineage.Objective!["curriculum"]!["temperature_start"]!.GetValue<double>());
        Assert.Equal(("a", true), (lineage.OnlineTeacher!.Id, lineage.OnlineTeacher.Pool));
        Assert.Equal(["a", "a"], lineage.Teachers);
        Assert.Equal([8, 16], lineage.ChannelsBefore);
    }

    [Fact]
    public void SerializeRecord_RecordAndLineageWithoutVersion_WritesCurrentVersions()
    {
        var record = FullCheckpointRecord() with { FormatVersion = 0 };
        record = record with { Training = record.Training with { Lineage = record.Training.Lineage! with { FormatVersion = 0 } } };

        var json = JsonNode.Parse(CheckpointSerializer.SerializeRecord(record))!;

        Assert.Equal(CheckpointRecord.CurrentFormatVersion, json["format_version"]!.GetValue<int>());
        Assert.Equal(LineageRecord.CurrentFormatVersion, json["training"]!["lineage"]!["format_version"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("format_version", "Checkpoint record 'format_version' is 2")]
    [InlineData("lineage", "Checkpoint record 'training.lineage' 'format_version' is 2")]
    public void ParseRecord_NewerVersion_ThrowsNamingTheRecord(string where, string message)
    {
        var json = JsonNode.Parse(CheckpointSerializer.SerializeRecord(FullCheckpointRecord()))!;
        if (where == "lineage")
        {
            json["training"]!["lineage"]!["format_version"] = 2;
        }
        else
        {
            json["format_version"] = 2;
        }

        var ex = Assert.Throws<InvalidDataException>(() => CheckpointSerializer.ParseRecord(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("epoch", "\"three\"")]
    [InlineData("options", "{\"optimizer\": 5}")]
    [InlineData("representation", "{\"file\": [\"a\"]}")]
    public void ParseRecord_ResumeMemberOfWrongType_ThrowsInvalidData(string member, string value)
    {
        var json = JsonNode.Parse(CheckpointSerializer.SerializeRecord(FullCheckpointRecord()))!;
        json["training"]![member] = JsonNode.Parse(value);

        var ex = Assert.Throws<InvalidDataException>(() => CheckpointSerializer.ParseRecord(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.Contains("$.training." + member, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_TrainingLoopOptions_TypesOptimizerAndKeepsEveryOtherOption()
    {
        var options = new TrainingLoopOptions { Optimizer = TrainingLoopOptions.Sgd, Epochs = 7, LearningRate = null };

        var record = TrainingOptionsRecord.From(options);

        Assert.Equal("sgd", record.Optimizer);
        Assert.Equal(SettingsSnapshot.Of(options).Select(p => p.Key).Where(k => k != "optimizer").Order(StringComparer.Ordinal), record.Settings!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(7, record.Settings["epochs"].GetInt32());
        Assert.Equal(JsonValueKind.Null, record.Settings["learning_rate"].ValueKind);
        Assert.Equal(options.EffectiveLearningRate, record.Settings["effective_learning_rate"].GetDouble());
    }

    [Theory]
    [InlineData(null, "\"out/a.json\"")]
    [InlineData("0123456789abcdef", """{"path":"out/a.json","id":"0123456789abcdef"}""")]
    public void ParentCheckpoint_PathAloneOrWithId_WritesStringOrObjectAndReadsItBack(string? id, string expected)
    {
        var parent = new ParentCheckpoint { Path = "out/a.json", Id = id };

        var json = RecordJson.ToCompactJson(parent);

        Assert.Equal(expected, json);
        Assert.Equal(parent, JsonSerializer.Deserialize(json, RecordJsonContext.Default.ParentCheckpoint));
    }

    [Fact]
    public void ParentCheckpoint_ObjectWithoutPath_ThrowsJsonException() =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize("""{"id":"x"}""", RecordJsonContext.Default.ParentCheckpoint));

    [Fact]
    public void SerializeQuantizationReport_PtqReport_RoundTripsWithVersionAndExplicitNulls()
    {
        var report = QuantizationReportSample();

        var json = RecordJson.Serialize(report);
        var parsed = RecordJson.ParseQuantizationReport(json);

        var node = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(QuantizationReport.CurrentFormatVersion, node["format_version"]!.GetValue<int>());
        // Readers query these by name: PTQ writes them as null rather than leaving them out, as the report always did.
        Assert.True(node.ContainsKey("qat") && node["qat"] is null);
        Assert.True(node["calibration"]!.AsObject().ContainsKey("percentile"));
        Assert.Equal(0.875, node["int8"]!["accuracy"]!.GetValue<double>());
        Assert.Equal(0.0123, node["mean_kl_fp32_int8"]!.GetValue<double>());
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(RecordJson.Serialize(parsed)));
        Assert.Equal(report.CreatedAt, parsed.CreatedAt);
        Assert.Equal([-1f, 2.5f], parsed.Calibration.Ranges["input"]);
    }

    [Fact]
    public void ParseQuantizationReport_WithoutTheMembersAddedLater_Loads()
    {
        // The first quantization.json had no weight bits, saturation, CPU, agreement check or QAT section.
        var json = LegacyRecords.Json("quantization-ptq.json");
        foreach (var later in new[] { "weight_bits", "saturation", "cpu", "agreement_check", "qat" })
        {
            json.Remove(later);
        }

        var report = RecordJson.ParseQuantizationReport(Encoding.UTF8.GetBytes(json.ToJsonString()));

        Assert.Null(report.WeightBits);
        Assert.Null(report.Cpu);
        Assert.Null(report.AgreementCheck);
        Assert.Equal(0.9, report.Fp32.Accuracy, 6);
    }

    [Theory]
    [InlineData("fp32", "fp32")]
    [InlineData("format_version", "format_version")]
    public void ParseQuantizationReport_MissingRequiredMemberOrNewerVersion_ThrowsInvalidData(string member, string named)
    {
        var json = LegacyRecords.Json("quantization-qat.json");
        if (member == "format_version")
        {
            json[member] = QuantizationReport.CurrentFormatVersion + 1;
        }
        else
        {
            json.Remove(member);
        }

        var ex = Assert.Throws<InvalidDataException>(() => RecordJson.ParseQuantizationReport(Encoding.UTF8.GetBytes(json.ToJsonString())));

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SerializeExportReport_WithLineage_RoundTripsWithVersions()
    {
        var legacy = RecordJson.ParseExportReport(LegacyRecords.Bytes("export.json"));
        var report = legacy with { Lineage = legacy.Lineage! with { FormatVersion = 0 }, PublishedTo = "file:out/published/" };

        var json = RecordJson.Serialize(report);
        var parsed = RecordJson.ParseExportReport(json);

        Assert.Equal((ExportReport.CurrentFormatVersion, LineageRecord.CurrentFormatVersion), (parsed.FormatVersion, parsed.Lineage!.FormatVersion));
        Assert.Equal("file:out/published/", parsed.PublishedTo);
        Assert.Equal(legacy.Variants.Select(v => v.Name), parsed.Variants.Select(v => v.Name));
        Assert.Equal(legacy.Metrics!.ConfusionMatrix.SelectMany(r => r), parsed.Metrics!.ConfusionMatrix.SelectMany(r => r));
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(RecordJson.Serialize(parsed)));
    }

    private static CheckpointRecord FullCheckpointRecord() => new()
    {
        Architecture = new ModelSpec { Name = "convnet", NumClasses = 2, InChannels = 1, Width = 8 },
        Classes = ["cat", "dog"],
        Training = new TrainingRecord
        {
            Stage = "qat",
            Parent = new ParentCheckpoint { Path = "teacher.json", Id = "0123456789abcdef" },
            Options = TrainingOptionsRecord.From(new TrainingLoopOptions()),
            Objective = "kd",
            Model = new ModelCostRecord { Parameters = 1234, Macs = 5678 },
            Lineage = new LineageRecord
            {
                Stage = "distill",
                Dataset = "file:data/",
                Objective = SettingsSnapshot.Of(new KdData.Objectives.ObjectiveOptions()),
                ShardSets = [new ShardSetInfo("labels/teacher=a/", "a", null, "teacher.json", 10, null, 2, 1, 3, 4)],
                Teachers = ["a", "a"],
                TeacherMode = "online",
                OnlineTeacher = new OnlineTeacherLineage { Id = "a", Checkpoint = "teacher.json", Pool = true },
                ChannelsBefore = [8, 16],
            },
            Epoch = 4,
            EpochComplete = false,
            StepsInEpoch = 7,
            BestEpoch = 3,
            BestEvalAccuracy = 0.75,
            OptimizerState = "last.optimizer.x.bin",
            OptimizerSha256 = "ab",
            Representation = RepresentationStateRecord.From(new JsonObject { ["terms"] = new JsonArray("hint"), ["rkd"] = null }, "last.representation.bin", "cd"),
            Epochs = 2,
            ActivationRanges = new Dictionary<string, IReadOnlyList<float>> { ["relu"] = [0f, 6.5f] },
            Int8Model = "model.int8.onnx",
            Export = new CheckpointExportRecord { Stage = "export", Parent = "/x/last.json", Onnx = "model.onnx", OnnxSha256 = "f00d", Opset = 17 },
            Other = new Dictionary<string, JsonElement> { ["written_by"] = JsonSerializer.SerializeToElement("python") },
        },
        Metrics = new Dictionary<string, double> { ["eval_accuracy"] = 0.75 },
        WeightsSha256 = new string('0', 64),
    };

    private static QuantizationReport QuantizationReportSample() => new()
    {
        CreatedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
        Method = "ptq",
        Checkpoint = new QuantizedCheckpoint { Path = "student.json", Id = "0123456789abcdef", Architecture = "convnet" },
        Dataset = "file:data/",
        Calibration = new CalibrationSummary
        {
            Method = "MinMax", Split = "train", Images = 64, Seed = 42,
            Ranges = new Dictionary<string, IReadOnlyList<float>> { ["input"] = [-1f, 2.5f] },
        },
        Scheme = "QDQ",
        WeightBits = 7,
        Saturation = new WeightSaturationSummary { SafeWithoutVnni = true, WorstPairSum = 100, Int16Limit = 32767 },
        Cpu = CpuInstructionSet.FromFeatures(["avx2"], x86: true),
        Opset = 17,
        EvalSplit = "test",
        Images = 200,
        Fp32 = new OnnxModelSummary { Accuracy = 0.9, ExpectedCalibrationError = 0.1, NegativeLogLikelihood = 0.4, MeanConfidence = 0.8, FileBytes = 1000 },
        Int8Model = new OnnxModelSummary { Accuracy = 0.875, ExpectedCalibrationError = 0.1, NegativeLogLikelihood = 0.4, MeanConfidence = 0.8, FileBytes = 300 },
        AccuracyDropPoints = 2.5,
        SizeRatio = 0.3,
        Top1Agreement = 0.97,
        AgreementCheck = new AgreementCheckSummary { Reference = "the fp32 model", Top1Agreement = 0.97, Minimum = 0.98, Passed = false, AcceptedBelowMinimum = true },
        MeanKlFp32Int8 = 0.0123,
    };
}
