namespace KdData.Training;

/// <summary>
/// A source of labeled batches, one pass per epoch. Two implementations: the storage-backed pipeline (images
/// decoded from a folder or blob container through channels) and <see cref="InMemoryTrainingData"/> (small data
/// sets and tests). Evaluation data uses the same abstraction; an evaluation source ignores the epoch and does
/// not shuffle.
/// </summary>
public interface ITrainingData
{
    /// <summary>
    /// Expected number of batches in one epoch; the learning-rate schedule is laid out from it. A source that
    /// skips undecodable images may deliver slightly fewer; the schedule then simply ends a little early.
    /// </summary>
    int BatchesPerEpoch { get; }

    /// <summary>
    /// Yields the batches of epoch <paramref name="epoch"/> (1-based). A training source shuffles with a seed
    /// derived from its seed and the epoch, so rereading an epoch (e.g. after a resume) gives the same order.
    /// </summary>
    IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default);
}
