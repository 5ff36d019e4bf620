using System.Text.Json.Nodes;
using KdData.Hosting;
using KdData.Models;
using KdData.Objectives;
using KdData.Records;
using KdData.Tests.Fixtures;
using KdData.Tests.Records;
using KdData.Training;

namespace KdData.Tests.Training;

/// <summary>What a resume reads from the <c>last</c> record, through its type: the optimizer, the run state, the lineage.</summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class TrainingLoopRecordTests
{
    private static TrainingLoopOptions Options(int epochs, string optimizer = TrainingLoopOptions.AdamW) =>
        new() { Epochs = epochs, Optimizer = optimizer, LearningRate = 0.01 };

    private static Task<TrainingResult> RunAsync(string directory, TrainingLoopOptions options, LineageRecord? lineage = null) =>
        new TrainingLoop(options, new CrossEntropyObjective(0.1)).RunAsync(QuadrantTrainingRun.Job(directory, QuadrantTrainingRun.Spec) with { Lineage = lineage });

    [Fact]
    public async Task RunAsync_ResumeWithOtherOptimizer_ThrowsNamingBoth()
    {
        using var directory = new TempDirectory();
        await RunAsync(directory.Path, Options(1));

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => RunAsync(directory.Path, Options(2, TrainingLoopOptions.Sgd)));

        Assert.Contains("optimizer 'adamw'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("is 'sgd'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LastRecordWithoutEpoch_ThrowsNamingTheMember()
    {
        using var directory = new TempDirectory();
        await RunAsync(directory.Path, Options(1));
        var last = Path.Combine(directory.Path, "last.json");
        var json = JsonNode.Parse(File.ReadAllText(last))!;
        json["training"]!.AsObject().Remove("epoch");
        File.WriteAllText(last, json.ToJsonString());

        var ex = await Assert.ThrowsAsync<InvalidDataException>(() => RunAsync(directory.Path, Options(2)));

        Assert.Contains("'training.epoch'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LegacyLineage_ResumesAndWritesItBackVersioned()
    {
        // The lineage of a record written before lineage had a type (no format_version) goes through a run and its resume.
        using var directory = new TempDirectory();
        var lineage = CheckpointSerializer.ParseRecord(LegacyRecords.Bytes("distill-kd-last.json")).Training.Lineage!;
        await RunAsync(directory.Path, Options(1), lineage);

        var resumed = await RunAsync(directory.Path, Options(2), lineage);

        Assert.Equal(2, resumed.EpochsCompleted);
        var record = CheckpointSerializer.ParseRecord(File.ReadAllBytes(resumed.LastCheckpointPath!));
        Assert.Equal((2, true, "adamw"), (record.Training.Epoch!.Value, record.Training.EpochComplete!.Value, record.Training.Options!.Optimizer));
        Assert.Equal(LineageRecord.CurrentFormatVersion, record.Training.Lineage!.FormatVersion);
        Assert.Equal(lineage.ShardSets, record.Training.Lineage.ShardSets);
        Assert.Equal(lineage.Teachers, record.Training.Lineage.Teachers);
        Assert.Equal(lineage.Objective!.ToJsonString(), record.Training.Lineage.Objective!.ToJsonString());
    }
}
