using KdData.Evaluation;
using KdData.Hosting;
using KdData.Models;
using KdData.Tests.Fixtures;
using KdData.Trainer;
using static TorchSharp.torch;

namespace KdData.Tests.Trainer;

/// <summary><c>kddata-trainer ensemble</c> in process: the sample teacher joined with a second network, then used as a teacher.</summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class EnsembleJobTests
{
    private static string SampleRoot => Path.Combine(LabelerSamples.RepoRoot, "samples", "fashion-mnist") + Path.DirectorySeparatorChar;

    private static async Task<(int Code, string Error)> RunAsync(params string[] args)
    {
        using var error = new StringWriter();
        var code = await TrainerCommandLine.RunAsync(args, TextWriter.Null, error);
        return (code, error.ToString());
    }

    /// <summary>A network of the sample teacher's architecture, classes and preprocessing with fresh weights (seed <paramref name="seed"/>).</summary>
    private static async Task<string> SaveOtherAsync(string folder, int seed, Func<CheckpointRecord, CheckpointRecord>? change = null)
    {
        var teacher = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(LabelerSamples.TeacherRecord));
        manual_seed(seed);
        var record = new CheckpointRecord { Architecture = teacher.Architecture, Classes = teacher.Classes, Preprocessing = teacher.Preprocessing };
        using var model = ModelZoo.Create(record.Architecture);
        return await CheckpointSerializer.SaveAsync(model, change?.Invoke(record) ?? record, folder, "other");
    }

    [Fact]
    public async Task RunAsync_TwoCheckpoints_WritesATeacherThatAveragesTheirProbabilities()
    {
        using var work = new TempDirectory();
        var other = await SaveOtherAsync(work.Path, seed: 11);
        var output = Path.Combine(work.Path, "ensemble");

        var (code, error) = await RunAsync("ensemble", "--members", $"{LabelerSamples.TeacherRecord}, {other}", "--output", output);

        Assert.True(code == ExitCodes.Success, error);
        var path = Path.Combine(output, "ensemble.json");
        // Loaded the way the Labeler loads its teacher.
        using var ensemble = await InferenceModel.LoadAsync(TestStores.Factory(), path, CPU);
        using var a = await CheckpointSerializer.LoadAsync(LabelerSamples.TeacherRecord);
        using var b = await CheckpointSerializer.LoadAsync(other);
        var record = ensemble.Record;
        Assert.Equal(record.WeightsSha256![..16], ensemble.Id);
        Assert.NotEqual(a.Record.WeightsSha256![..16], ensemble.Id);
        Assert.Equal("ensemble", record.Architecture.Name);
        Assert.Equal([a.Record.Architecture, b.Record.Architecture], record.Architecture.Members!);
        Assert.Equal(a.Record.Classes, record.Classes);
        Assert.Equal(a.Record.Preprocessing!.Mean, record.Preprocessing!.Mean);
        Assert.Equal(a.Record.Preprocessing.Std, record.Preprocessing.Std);
        Assert.Equal((28, 28, 1), (record.Preprocessing.Width, record.Preprocessing.Height, record.Preprocessing.Channels));
        Assert.Equal("ensemble", record.Training.Stage);
        Assert.Equal([LabelerSamples.TeacherRecord, other], record.Training.Members!.Select(m => m.Path));
        Assert.Equal([a.Record.WeightsSha256[..16], b.Record.WeightsSha256![..16]], record.Training.Members!.Select(m => m.Id));
        Assert.Equal(ModelComplexity.Parameters(a.Model) + ModelComplexity.Parameters(b.Model), record.Training.Model!.Parameters);
        Assert.Equal(ModelComplexity.Macs(a.Model, 1, 28, 28) + ModelComplexity.Macs(b.Model, 1, 28, 28), record.Training.Model.Macs);

        manual_seed(3);
        var pixels = randn(4, 1, 28, 28).data<float>().ToArray();
        var logits = ensemble.Forward(pixels, 4, 1, 28, 28);
        a.Model.eval();
        b.Model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(pixels, [4, 1, 28, 28]);
        var expected = a.Model.call(input).softmax(1).add(b.Model.call(input).softmax(1)).div(2).log().data<float>().ToArray();
        Assert.Equal(expected.Length, logits.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], logits[i], 4);
        }
    }

    /// <summary>
    /// <c>ensemble</c> run on the sample teacher and a copy of it in <paramref name="folder"/>/copy: an ensemble that
    /// predicts exactly what the teacher predicts. Returns the ensemble's record.
    /// </summary>
    public static async Task<string> TeacherTwiceAsync(string folder)
    {
        var copy = Path.Combine(folder, "copy", "teacher.json");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(LabelerSamples.TeacherRecord, copy);
        File.Copy(Path.ChangeExtension(LabelerSamples.TeacherRecord, ".safetensors"), Path.ChangeExtension(copy, ".safetensors"));
        var output = Path.Combine(folder, "ensemble");
        var (code, error) = await RunAsync("ensemble", "--members", $"{LabelerSamples.TeacherRecord},{copy}", "--output", output);
        Assert.True(code == ExitCodes.Success, error);
        return Path.Combine(output, "ensemble.json");
    }

    [Fact]
    public async Task RunAsync_TeacherAndItsCopy_EvaluatesExactlyAsTheTeacher()
    {
        using var work = new TempDirectory();
        var ensemble = await TeacherTwiceAsync(work.Path);
        var evaluation = Path.Combine(work.Path, "evaluation");

        var (code, error) = await RunAsync("evaluate", "--dataset", SampleRoot, "--checkpoint", ensemble,
            "--teacher", LabelerSamples.TeacherRecord, "--output", evaluation);

        Assert.True(code == ExitCodes.Success, error);
        var report = await EvaluationReportWriter.ReadAsync(Path.Combine(evaluation, EvaluationReport.FileName));
        Assert.Equal(0.9, report.Metrics.Accuracy, 6); // the committed teacher's accuracy on the 200 committed test images
        Assert.Equal(1.0, report.Teacher!.Agreement.Top1Agreement);
        Assert.Equal(0, report.Teacher.Agreement.MeanKlTeacherStudent, 5);
    }

    [Fact]
    public async Task RunAsync_OneMember_ExitsTwoNamingTheKey()
    {
        var (code, error) = await RunAsync("ensemble", "--members", LabelerSamples.TeacherRecord);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("Trainer:Ensemble:Members (--members) names 1 checkpoint(s); an ensemble needs two or more", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_OneMemberTwice_ExitsTwoNamingTheKeyAndTheFile()
    {
        var (code, error) = await RunAsync("ensemble", "--members", $"{LabelerSamples.TeacherRecord},{LabelerSamples.TeacherRecord}");

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains($"Trainer:Ensemble:Members (--members) names '{LabelerSamples.TeacherRecord}' 2 times; each member once.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_MissingMember_ExitsTwoWritingNothing()
    {
        using var work = new TempDirectory();
        var missing = Path.Combine(work.Path, "nope", "last.json");

        var (code, _) = await RunAsync("ensemble", "--members", $"{LabelerSamples.TeacherRecord},{missing}", "--output", Path.Combine(work.Path, "out"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(Path.Combine(work.Path, "out")));
    }

    [Fact]
    public async Task RunAsync_MemberWithOtherClassOrder_ExitsTwoWritingNothing()
    {
        using var work = new TempDirectory();
        var other = await SaveOtherAsync(work.Path, seed: 12, r => r with { Classes = [.. r.Classes.Reverse()] });

        var (code, _) = await RunAsync("ensemble", "--members", $"{LabelerSamples.TeacherRecord},{other}", "--output", Path.Combine(work.Path, "out"));

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(Path.Combine(work.Path, "out")));
    }

    [Fact]
    public async Task CheckMembers_OtherClassOrder_NamesTheMemberAndTheFirst()
    {
        var teacher = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(LabelerSamples.TeacherRecord));
        var reversed = teacher with { Classes = [.. teacher.Classes.Reverse()] };

        var e = Assert.Throws<InvalidInputException>(() => EnsembleJob.CheckMembers(["a/teacher.json", "b/last.json"], [teacher, reversed]));

        Assert.StartsWith("Checkpoint 'b/last.json' predicts the classes [Ankle boot, Bag,", e.Message, StringComparison.Ordinal);
        Assert.Contains("but 'a/teacher.json' predicts [T-shirt/top, Trouser,", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckMembers_OtherNormalisation_NamesTheMember()
    {
        var teacher = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(LabelerSamples.TeacherRecord));
        var other = teacher with { Preprocessing = teacher.Preprocessing! with { Mean = [0.5f], Std = [0.5f] } };

        var e = Assert.Throws<InvalidInputException>(() => EnsembleJob.CheckMembers(["a/teacher.json", "b/last.json"], [teacher, other]));

        Assert.StartsWith("Checkpoint 'b/last.json' takes other input than 'a/teacher.json' (28x28, 1 channel(s), mean [0.5], std [0.5] against 28x28, 1 channel(s), mean [0.286], std [0.353])", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckMembers_AnEnsemble_AsksForItsMembers()
    {
        var teacher = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(LabelerSamples.TeacherRecord));
        var nested = teacher with { Architecture = new ModelSpec { Name = "ensemble", NumClasses = 10, InChannels = 1, Members = [teacher.Architecture, teacher.Architecture] } };

        var e = Assert.Throws<InvalidInputException>(() => EnsembleJob.CheckMembers(["a/teacher.json", "b/ensemble.json"], [teacher, nested]));

        Assert.Contains("'b/ensemble.json'", e.Message, StringComparison.Ordinal);
        Assert.Contains("is an ensemble itself", e.Message, StringComparison.Ordinal);
    }
}
