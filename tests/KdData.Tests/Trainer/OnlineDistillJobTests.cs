using System.Text.Json;
using KdData.Hosting;
using KdData.Tests.Distillation;
using KdData.Tests.Fixtures;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer distill --teacher</c> (online distillation) in process on the committed sample.</summary>
public sealed class OnlineDistillJobTests
{
    private static string SampleRoot => SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar;

    private static Task<int> RunAsync(params string[] args) =>
        TrainerCommandLine.RunAsync(
            ["distill", "--dataset", SampleRoot, "--Trainer:Data:DecodeWorkers=2", "--Torch:Threads=2", "--Trainer:Distill:Model:Width=8", .. args],
            TextWriter.Null, TextWriter.Null);

    [Fact]
    public async Task RunAsync_OnlineTeacherWithPool_RecordsTeacherAndLogsAgreement()
    {
        using var work = new TempDirectory();
        // No shards exist under this location: online mode must not read any.
        var code = await RunAsync("--teacher", LabelerSamples.TeacherRecord, "--Trainer:Distill:OnlinePool=true",
            "--shards", Path.Combine(work.Path, "no-labels") + "/", "--output", work.Path, "--epochs", "1", "--batch-size", "128");

        Assert.Equal(ExitCodes.Success, code);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement;
        var lineage = record.GetProperty("training").GetProperty("lineage");
        var teacherId = LabelerSamples.TeacherId(LabelerSamples.TeacherRecord);
        Assert.Equal("online", lineage.GetProperty("teacher_mode").GetString());
        Assert.Equal(teacherId, lineage.GetProperty("online_teacher").GetProperty("id").GetString());
        Assert.Equal(LabelerSamples.TeacherRecord, lineage.GetProperty("online_teacher").GetProperty("checkpoint").GetString());
        Assert.Equal(teacherId, lineage.GetProperty("teachers")[0].GetString());
        Assert.Equal(480, lineage.GetProperty("pseudo_labeled_images").GetInt32());
        Assert.Equal(LabelerSamples.TeacherRecord, lineage.GetProperty("eval_teacher").GetString());
        var line = Training.TrainingFiles.MetricsLines(work.Path)[^1];
        foreach (var field in new[] { "kd", "ce", "agreement", "teacher_kl" })
        {
            Assert.True(double.IsFinite(line.GetProperty(field).GetDouble()), field);
        }
    }

    [Fact]
    public async Task RunAsync_AllRepresentationTerms_TrainsAndRecordsThemAndResumes()
    {
        using var work = new TempDirectory();
        string[] args =
        [
            "--teacher", LabelerSamples.TeacherRecord, "--output", work.Path, "--batch-size", "64",
            "--Trainer:Objective:Hint:Enabled=true", "--Trainer:Objective:Attention:Enabled=true",
            "--Trainer:Objective:Rkd:Enabled=true", "--Trainer:Objective:Crd:Enabled=true", "--Trainer:Objective:Crd:Dim=16",
        ];

        var first = await RunAsync([.. args, "--epochs", "1"]);
        var resumed = await RunAsync([.. args, "--epochs", "2"]);

        Assert.Equal(ExitCodes.Success, first);
        Assert.Equal(ExitCodes.Success, resumed);
        var record = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(work.Path, "last.json"))).RootElement.GetProperty("training");
        Assert.Equal(2, record.GetProperty("epoch").GetInt32());
        Assert.Equal(["hint", "attention", "rkd", "crd"], record.GetProperty("lineage").GetProperty("representation").EnumerateArray().Select(t => t.GetString()));
        var representation = record.GetProperty("representation");
        // The sample has 120 labeled images: the bank is capped there; its cost is 2 x 120 x 16 x 4 bytes.
        Assert.Equal(120, representation.GetProperty("crd").GetProperty("bank_size").GetInt32());
        Assert.Equal(2 * 120 * 16 * 4, representation.GetProperty("crd").GetProperty("bank_bytes").GetInt32());
        Assert.True(File.Exists(Path.Combine(work.Path, representation.GetProperty("file").GetString()!)));
        var lines = Training.TrainingFiles.MetricsLines(work.Path);
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.True(l.GetProperty("rep_terms").GetProperty("crd").GetDouble() > 0));
    }

    [Theory]
    [InlineData("--Trainer:Objective:Hint:StudentLayer=features.7")]
    [InlineData("--Trainer:Objective:Hint:TeacherLayer=layer3")]
    public async Task RunAsync_HintLayerNotInNetwork_ExitsTwoAndWritesNothing(string setting)
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "student");

        var code = await RunAsync("--teacher", LabelerSamples.TeacherRecord, "--output", output, "--Trainer:Objective:Hint:Enabled=true", setting);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());
    }

    [Fact]
    public async Task RunAsync_RepresentationTermWithoutOnlineTeacher_ExitsTwo()
    {
        using var work = new TempDirectory();

        var code = await RunAsync("--output", Path.Combine(work.Path, "student"), "--Trainer:Objective:Rkd:Enabled=true");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
    }

    [Fact]
    public async Task RunAsync_MissingTeacherCheckpoint_ExitsTwoAndWritesNothing()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "student");

        var code = await RunAsync("--teacher", Path.Combine(work.Path, "missing.json"), "--output", output);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());
    }

    [Fact]
    public async Task RunAsync_TeacherWithOtherPreprocessing_ExitsTwoAndWritesNothing()
    {
        // The sample teacher, whose record says it was trained with another normalisation than the student's input.
        using var work = new TempDirectory();
        var teacher = Path.Combine(work.Path, "teacher.json");
        File.Copy(Path.ChangeExtension(LabelerSamples.TeacherRecord, ".safetensors"), Path.ChangeExtension(teacher, ".safetensors"));
        var record = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(LabelerSamples.TeacherRecord))!;
        record["preprocessing"]!["mean"] = new System.Text.Json.Nodes.JsonArray(0.5);
        File.WriteAllText(teacher, record.ToJsonString());
        var output = Path.Combine(work.Path, "student");

        var code = await RunAsync("--teacher", teacher, "--output", output);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output).Any());
    }
}
