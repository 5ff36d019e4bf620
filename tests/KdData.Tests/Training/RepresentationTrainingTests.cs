using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>Representation-KD terms inside the real loop with the online teacher: trained, logged, saved and restored.</summary>
public sealed class RepresentationTrainingTests
{
    private static RepresentationOptions AllTerms() => new()
    {
        Hint = new HintOptions { Enabled = true, StudentLayer = "features.1", TeacherLayer = "features.1" },
        Attention = new AttentionTransferOptions { Enabled = true },
        Rkd = new RkdOptions { Enabled = true },
        Crd = new CrdOptions { Enabled = true, Dim = 8, BankSize = 4096 },
    };

    [Fact]
    public async Task RunAsync_AllTerms_TrainsAdaptersLogsTermsAndSavesThemWithTheCheckpoint()
    {
        var (data, eval, classes) = await OnlineTeacherTests.OnlineDataAsync(labeled: 16, pool: 16, batch: 16);
        using var teacher = await OnlineTeacher.LoadAsync(TestStores.Factory(), LabelerSamples.TeacherRecord, CPU);
        var spec = new ModelSpec { Name = "convnet", Width = 4, NumClasses = classes, InChannels = 1 };
        manual_seed(11);
        using var student = ModelZoo.Create(spec);
        using var representation = RepresentationDistillation.Create(AllTerms(), student, teacher.Network, 1, 28, 28, trainingImages: 32);
        var adapterBefore = representation.Hint!.Adapter.weight!.detach().clone();
        var headBefore = representation.Crd!.StudentHead.weight!.detach().clone();
        var bankBefore = representation.Crd.TeacherBank.clone();
        using var work = new TempDirectory();

        await new TrainingLoop(new TrainingLoopOptions { Epochs = 2, BatchSize = 16, Seed = 3 }, new HintonDistillationObjective())
            .RunAsync(new TrainingSetup
            {
                Architecture = spec, Train = data, Eval = eval, OutputDirectory = work.Path,
                Teacher = teacher, Representation = representation, Schedule = (_, _) => new ObjectiveSchedule(4, 0.5),
            }, student);

        // The bank is capped at the 32 training images; adapters, heads and the bank's slots moved.
        Assert.Equal(32, representation.Crd.BankSize);
        Assert.False(representation.Hint.Adapter.weight!.allclose(adapterBefore, rtol: 0, atol: 0));
        Assert.False(representation.Crd.StudentHead.weight!.allclose(headBefore, rtol: 0, atol: 0));
        Assert.False(representation.Crd.TeacherBank.allclose(bankBefore, rtol: 0, atol: 0));
        var line = TrainingFiles.MetricsLines(work.Path)[^1];
        Assert.True(line.GetProperty("rep").GetDouble() > 0);
        foreach (var term in new[] { "hint", "attention", "rkd", "crd" })
        {
            Assert.True(double.IsFinite(line.GetProperty("rep_terms").GetProperty(term).GetDouble()), term);
        }

        // Saved beside the checkpoint and named by its record; a fresh instance loads exactly the trained state back.
        var record = TrainingFiles.Record(work.Path, "last");
        var file = record["training"]!["representation"]!["file"]!.GetValue<string>();
        Assert.Equal("last" + TrainingLoop.RepresentationFileSuffix, file);
        Assert.Equal(32, record["training"]!["representation"]!["crd"]!["bank_size"]!.GetValue<long>());
        manual_seed(99);
        using var otherStudent = ModelZoo.Create(spec);
        using var restored = RepresentationDistillation.Create(AllTerms(), otherStudent, teacher.Network, 1, 28, 28, trainingImages: 32);
        Assert.False(restored.Hint!.Adapter.weight!.allclose(representation.Hint.Adapter.weight!, rtol: 0, atol: 0));
        restored.LoadState(await File.ReadAllBytesAsync(Path.Combine(work.Path, file)));
        var trained = representation.state_dict();
        var loaded = restored.state_dict();
        Assert.Equal(trained.Keys.Order(), loaded.Keys.Order());
        Assert.All(trained, entry => Assert.True(entry.Value.allclose(loaded[entry.Key], rtol: 0, atol: 0), entry.Key));
        adapterBefore.Dispose();
        headBefore.Dispose();
        bankBefore.Dispose();
    }
}
