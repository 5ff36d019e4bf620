using System.Diagnostics;
using System.Threading.Channels;
using KdData.Models;
using KdData.SoftTargets;

namespace KdData.Labeling;

/// <summary>
/// The teacher stage: packs views from consecutive images into batches of <see cref="LabelingOptions.BatchSize"/>
/// (an image's views may straddle two batches), runs the teacher synchronously on the consumer's thread (inference
/// mode and the dispose scope never span an await), and passes images on in arrival order once all their views have
/// soft targets. Images without views (fetch or decode errors) pass straight through when nothing is waiting.
/// </summary>
internal sealed class TeacherBatcher
{
    private readonly InferenceModel _teacher;
    private readonly int _batchSize;
    private readonly int _topK;
    private readonly int _channels;
    private readonly int _size;
    private readonly LabelingStatus _status;

    public TeacherBatcher(InferenceModel teacher, int batchSize, int topK, int channels, int size, LabelingStatus status)
    {
        _teacher = teacher;
        _batchSize = batchSize;
        _topK = topK;
        _channels = channels;
        _size = size;
        _status = status;
    }

    public async Task RunAsync(ChannelReader<PreparedImage> input, ChannelWriter<ImageResult> output, CancellationToken cancellationToken = default)
    {
        var viewLength = _channels * _size * _size;
        var classes = _teacher.ClassCount;
        // Images waiting for (some of) their views' soft targets, in arrival order.
        var pending = new Queue<(PreparedImage Image, SoftTarget[] Targets)>();
        var batch = new List<(SoftTarget[] Targets, int View, float[] Pixels)>(_batchSize);
        // One input buffer for the whole run: Forward copies it into a tensor and returns before the next batch is
        // packed, and a fresh batch-sized array each time (400 KB for 128 views of 28x28) lands on the large
        // object heap and drives gen-2 collections. A partial (last) batch gets an array of its own size.
        var full = new float[_batchSize * viewLength];

        async Task RunBatchAsync()
        {
            if (batch.Count > 0)
            {
                var flat = batch.Count == _batchSize ? full : new float[batch.Count * viewLength];
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Pixels.CopyTo(flat, i * viewLength);
                }

                var started = Stopwatch.GetTimestamp();
                // Synchronous on this thread: inference mode and the dispose scope never span an await.
                var logits = _teacher.Forward(flat, batch.Count, _channels, _size, _size);
                var elapsed = Stopwatch.GetElapsedTime(started);
                _status.AddInference(elapsed);
                LabelerMetrics.BatchSeconds.Record(elapsed.TotalSeconds);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Targets[batch[i].View] = SoftTarget.FromLogits(logits.AsSpan(i * classes, classes), _topK);
                }

                batch.Clear();
            }

            while (pending.Count > 0 && AllLabeled(pending.Peek().Targets))
            {
                var (image, targets) = pending.Dequeue();
                await output.WriteAsync(new ImageResult(image.Info, Rows(image, targets), image.Error), cancellationToken).ConfigureAwait(false);
            }
        }

        await foreach (var image in input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var targets = new SoftTarget[image.Pixels.Length];
            pending.Enqueue((image, targets));
            for (var v = 0; v < image.Pixels.Length; v++)
            {
                batch.Add((targets, v, image.Pixels[v]));
                if (batch.Count == _batchSize)
                {
                    await RunBatchAsync().ConfigureAwait(false);
                }
            }

            if (batch.Count == 0)
            {
                // Nothing waits on the teacher: pass finished images (e.g. errors) on without delay.
                await RunBatchAsync().ConfigureAwait(false);
            }
        }

        await RunBatchAsync().ConfigureAwait(false);
        Debug.Assert(pending.Count == 0, "every image must leave the teacher stage");
    }

    private static bool AllLabeled(SoftTarget[] targets)
    {
        foreach (var target in targets)
        {
            if (target is null)
            {
                return false;
            }
        }

        return true;
    }

    private static SoftTargetRow[] Rows(PreparedImage image, SoftTarget[] targets)
    {
        if (image.Error is not null)
        {
            return [];
        }

        var rows = new SoftTargetRow[targets.Length];
        for (var v = 0; v < rows.Length; v++)
        {
            rows[v] = new SoftTargetRow(image.Info.Key, image.Info.ETag, image.Info.Size, v, image.Crops[v], targets[v], image.Label);
        }

        return rows;
    }
}
