using KdData.Evaluation;
using KdData.SoftTargets;
using KdData.Tests.Infrastructure;

namespace KdData.Tests.Evaluation;

public sealed class CommittedPseudoLabelsTests
{
    private static readonly string[] Classes = ["a", "b", "c", "d"];

    [Fact]
    public async Task ReadAsync_RelabeledKeyAndUncommittedFile_LatestCommitWinsAndOnlyCommittedCount()
    {
        var store = TestStores.Local(out var folder);
        try
        {
            const string teacher = "teacher=0000000000000000/";
            await ShardSetWriter.WriteShardAsync(store, teacher + "part-0.parquet", [ShardSetWriter.Row("x.png", 1, 4), ShardSetWriter.Row("y.png", 2, 4)], Classes, "file:///data/unlabeled/");
            await ShardSetWriter.WriteShardAsync(store, teacher + "part-1.parquet", [ShardSetWriter.Row("x.png", 3, 4)], Classes, "file:///data/unlabeled/");
            await ShardSetWriter.WriteShardAsync(store, teacher + "rejected/part-1.parquet", [ShardSetWriter.Row("z.png", 0, 4)], Classes, "file:///data/unlabeled/");
            await ShardSetWriter.WriteShardAsync(store, teacher + "part-2.parquet", [ShardSetWriter.Row("w.png", 0, 4)], Classes, "file:///data/unlabeled/");
            await ShardSetWriter.WriteManifestAsync(
                store,
                teacher,
                new PartitionCommit { Sequence = 1, Accepted = "part-1.parquet", Rejected = "rejected/part-1.parquet", AcceptedRows = 1, RejectedRows = 1 },
                new PartitionCommit { Sequence = 0, Accepted = "part-0.parquet", AcceptedRows = 2 });

            // The Labeler output root (one teacher folder below it) is accepted as well as the folder itself.
            var labels = await CommittedPseudoLabels.ReadAsync(store);

            Assert.Equal(teacher, labels.Folder);
            Assert.Equal(3, labels.Files);
            Assert.Equal([("x.png", 3), ("y.png", 2)], labels.Accepted);
            Assert.Equal([("z.png", 0)], labels.Rejected);
            Assert.Equal("file:///data/unlabeled/", labels.Input);
            Assert.Equal(Classes, labels.TeacherClasses);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ReadAsync_NoManifest_ThrowsNamingTheLocation()
    {
        var store = TestStores.Local(out var folder);
        try
        {
            var error = await Assert.ThrowsAsync<InvalidDataException>(() => CommittedPseudoLabels.ReadAsync(store));

            Assert.Contains("no committed shards", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
