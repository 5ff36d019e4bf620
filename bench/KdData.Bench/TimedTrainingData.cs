using System.Diagnostics;
using System.Runtime.CompilerServices;
using KdData.Training;

namespace KdData.Bench;

/// <summary>
/// Passes another source's batches through and times the epoch from the request of its first batch to the return
/// of control after its last one (i.e. after the training loop's step on it): exactly the training part of an epoch,
/// without the evaluation and checkpoint writes that follow. Also the process CPU time over the same span.
/// </summary>
internal sealed class TimedTrainingData(ITrainingData inner) : ITrainingData
{
    public int BatchesPerEpoch => inner.BatchesPerEpoch;

    /// <summary>Wall-clock seconds of the last completed epoch.</summary>
    public double Seconds { get; private set; }

    /// <summary>Process CPU seconds (all threads: loader and Torch) of the last completed epoch.</summary>
    public double CpuSeconds { get; private set; }

    /// <summary>Images of the last completed epoch.</summary>
    public long Images { get; private set; }

    /// <summary>Batches of the last completed epoch.</summary>
    public int Batches { get; private set; }

    public async IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long images = 0;
        var batches = 0;
        await foreach (var batch in inner.ReadEpochAsync(epoch, cancellationToken).ConfigureAwait(false))
        {
            images += batch.Count;
            batches++;
            yield return batch;
        }

        Seconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        CpuSeconds = (self.TotalProcessorTime - cpu).TotalSeconds;
        Images = images;
        Batches = batches;
    }
}
