using KdData.Training;

namespace KdData.Bench;

/// <summary>
/// Batches made beforehand and held in memory, replayed as they are for every epoch: the "no loader" baseline of
/// <c>distill-loader</c>. Unlike <see cref="InMemoryTrainingData"/> it keeps each batch exactly (composition, order,
/// teacher rows and their mask), so the only difference from the real loader is where the batches come from.
/// </summary>
internal sealed class ReplayedBatches(IReadOnlyList<LabeledBatch> batches) : ITrainingData
{
    public int BatchesPerEpoch => batches.Count;

    public IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default) =>
        batches.ToAsyncEnumerable();
}
