using System.Text.Json;
using KdData.Hosting;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer selftrain</c> in process on the committed sample: rounds, table, lineage, resume and Labeler reuse.</summary>
public sealed class SelfTrainJobTests(SelfTrainRun run) : IClassFixture<SelfTrainRun>
{
    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllBytes(path)).RootElement;

    private JsonElement Round(int round) => Json(Path.Combine(run.Output, $"round-{round}", "round.json"));

    /// <summary>Committed shard files of every teacher (the commit logs and run summaries left out).</summary>
    private string[] ShardFiles() =>
        [.. Directory.EnumerateFiles(Path.Combine(run.Output, "labels"), "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    [Fact]
    public void RunAsync_TwoRoundsOnSample_WritesThePerRoundTable()
    {
        Assert.Equal(ExitCodes.Success, run.ExitCode);
        var table = Json(Path.Combine(run.Output, "selftrain.json"));
        Assert.Equal(2, table.GetProperty("planned_rounds").GetInt32());
        var rounds = table.GetProperty("rounds");
        Assert.Equal(2, rounds.GetArrayLength());
        foreach (var round in rounds.EnumerateArray())
        {
            foreach (var field in new[] { "teacher_accuracy", "pseudo_label_accuracy", "student_accuracy" })
            {
                var value = round.GetProperty(field).GetDouble();
                Assert.InRange(value, 0.0, 1.0);
            }
        }

        // Round 1's teacher is the committed one: 90.00 % on the sample's 200 test images (bench/distillation/notes.md), and it labeled
        // all 480 pool images and the 120 labeled ones, two views each.
        var first = rounds[0];
        Assert.Equal(0.9, first.GetProperty("teacher_accuracy").GetDouble(), 9);
        Assert.Equal(LabelerSamples.TeacherId(LabelerSamples.TeacherRecord), first.GetProperty("teacher_id").GetString());
        Assert.Equal(480, first.GetProperty("pool_labeling").GetProperty("labeled").GetInt64());
        Assert.Equal(960, first.GetProperty("pool_labeling").GetProperty("accepted_views").GetInt64());
        Assert.Equal(120, first.GetProperty("train_labeling").GetProperty("labeled").GetInt64());
        Assert.Equal(1.0, first.GetProperty("pseudo_label_coverage").GetDouble(), 9);

        var markdown = File.ReadAllLines(Path.Combine(run.Output, "selftrain.md"));
        Assert.StartsWith("| round | teacher | teacher accuracy | pseudo-label accuracy (pool) |", markdown[0], StringComparison.Ordinal);
        Assert.StartsWith("| 1 | " + first.GetProperty("teacher_id").GetString() + " | 90.00 % |", markdown[2], StringComparison.Ordinal);
        Assert.StartsWith("| 2 | " + rounds[1].GetProperty("teacher_id").GetString() + " |", markdown[3], StringComparison.Ordinal);
    }

    [Fact]
    public void RunAsync_TwoRounds_EachStudentTeachesTheNextAndNamesItsTeacher()
    {
        Assert.Equal(ExitCodes.Success, run.ExitCode);
        var (first, second) = (Round(1), Round(2));
        var firstStudent = first.GetProperty("student_checkpoint").GetString()!;
        Assert.Equal(firstStudent, second.GetProperty("teacher_checkpoint").GetString());
        Assert.Equal(first.GetProperty("student_id").GetString(), second.GetProperty("teacher_id").GetString());
        Assert.NotEqual(first.GetProperty("teacher_id").GetString(), second.GetProperty("teacher_id").GetString());

        foreach (var (round, width) in new[] { (first, 8), (second, 12) })
        {
            // The student's own checkpoint record names its parent: the shards' teacher id and the teacher checkpoint.
            var record = Json(round.GetProperty("student_checkpoint").GetString()!);
            var lineage = record.GetProperty("training").GetProperty("lineage");
            Assert.Equal(round.GetProperty("teacher_id").GetString(), lineage.GetProperty("teachers")[0].GetString());
            Assert.Equal(round.GetProperty("teacher_checkpoint").GetString(), lineage.GetProperty("eval_teacher").GetString());
            Assert.Equal(2, lineage.GetProperty("shard_sets").GetArrayLength());
            // The noised student: convnet of its round's width (--widths 8,12) with dropout before the classifier.
            var architecture = record.GetProperty("architecture");
            Assert.Equal(width, architecture.GetProperty("width").GetInt32());
            Assert.Equal(0.5, architecture.GetProperty("drop_rate").GetDouble(), 9);
        }

        // Each teacher wrote its own folder in the Labeler's layout.
        Assert.True(Directory.Exists(Path.Combine(run.Output, "labels", "pool", "teacher=" + second.GetProperty("teacher_id").GetString(), "_manifests")));
    }

    [Fact]
    public async Task RunAsync_Rerun_SkipsFinishedRoundsWithoutLabelingOrTraining()
    {
        Assert.Equal(ExitCodes.Success, run.ExitCode);
        var shards = ShardFiles();
        var students = Enumerable.Range(1, 2).Select(r => File.ReadAllBytes(Round(r).GetProperty("student_checkpoint").GetString()!.Replace(".json", ".safetensors", StringComparison.Ordinal))).ToList();
        var runSummaries = Directory.EnumerateFiles(Path.Combine(run.Output, "labels"), "*.json", SearchOption.AllDirectories).Count(f => f.Contains("_runs", StringComparison.Ordinal));

        var code = await SelfTrainRun.RunAsync(run.Output);

        Assert.Equal(ExitCodes.Success, code);
        Assert.Equal(shards, ShardFiles());
        // No Labeler run at all (a run always leaves a summary), and the students' weights are untouched.
        Assert.Equal(runSummaries, Directory.EnumerateFiles(Path.Combine(run.Output, "labels"), "*.json", SearchOption.AllDirectories).Count(f => f.Contains("_runs", StringComparison.Ordinal)));
        for (var r = 1; r <= 2; r++)
        {
            Assert.Equal(students[r - 1], File.ReadAllBytes(Round(r).GetProperty("student_checkpoint").GetString()!.Replace(".json", ".safetensors", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task RunAsync_InterruptedRound_ReusesTheLabelerOutputOfThatTeacher()
    {
        Assert.Equal(ExitCodes.Success, run.ExitCode);
        // A round that stopped after labeling and distilling but before its record was written.
        File.Delete(Path.Combine(run.Output, "round-2", "round.json"));
        var shards = ShardFiles();
        var weights = Path.Combine(run.Output, "round-2", "student", "last.safetensors");
        var student = await File.ReadAllBytesAsync(weights);

        var code = await SelfTrainRun.RunAsync(run.Output);

        Assert.Equal(ExitCodes.Success, code);
        var second = Round(2);
        // The teacher was run on nothing: every key was already committed by that teacher, so no row and no file was written.
        Assert.Equal(0, second.GetProperty("pool_labeling").GetProperty("labeled").GetInt64());
        Assert.Equal(480, second.GetProperty("pool_labeling").GetProperty("already_labeled").GetInt64());
        Assert.Equal(0, second.GetProperty("pool_labeling").GetProperty("accepted_views").GetInt64());
        Assert.Equal(0, second.GetProperty("train_labeling").GetProperty("labeled").GetInt64());
        Assert.Equal(120, second.GetProperty("train_labeling").GetProperty("already_labeled").GetInt64());
        Assert.Equal(shards, ShardFiles());
        // Distillation resumed from its last checkpoint, which had every epoch: nothing was trained again.
        Assert.Equal(student, await File.ReadAllBytesAsync(weights));
        Assert.Equal(2, Json(Path.Combine(run.Output, "selftrain.json")).GetProperty("rounds").GetArrayLength());
    }

    [Fact]
    public async Task RunAsync_MissingTeacher_ExitsTwoAndWritesNothing()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "selftrain");

        var code = await SelfTrainRun.RunAsync(output, "--teacher", Path.Combine(work.Path, "no-such-teacher.json"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task RunAsync_EnsembleTeacherWithoutModel_ExitsTwoAndWritesNothing()
    {
        using var work = new TempDirectory();
        var ensemble = await EnsembleJobTests.TeacherTwiceAsync(work.Path);
        var output = Path.Combine(work.Path, "selftrain");

        var code = await KdData.Trainer.TrainerCommandLine.RunAsync(
            ["selftrain", "--dataset", KdData.Tests.Distillation.SampleDistillation.DatasetFolder + Path.DirectorySeparatorChar, "--teacher", ensemble,
             "--output", output, "--drop-rate", "0"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task RunAsync_NoTeacher_ExitsTwo()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "selftrain");

        var code = await KdData.Trainer.TrainerCommandLine.RunAsync(["selftrain", "--output", output], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task RunAsync_StudentSmallerThanTeacher_ExitsTwo()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "selftrain");

        var code = await SelfTrainRun.RunAsync(output, "--Trainer:SelfTrain:AllowSmallerStudent=false");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task RunAsync_RoundTwoStudentSmallerThanRoundOne_ExitsTwoAndWritesNothing()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "selftrain");

        // Round 1's w32 student is the committed teacher's size; round 2's w16 would be smaller than its teacher.
        var code = await SelfTrainRun.RunAsync(output, "--widths", "32,16", "--Trainer:SelfTrain:AllowSmallerStudent=false");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }
}
