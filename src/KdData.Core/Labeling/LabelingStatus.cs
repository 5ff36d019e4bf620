using System.Threading.Channels;

namespace KdData.Labeling;

/// <summary>Live counters of a run, read by the progress reporter from another thread.</summary>
public sealed class LabelingStatus
{
    private long _listed;
    private bool _listingComplete;
    private long _alreadyLabeled;
    private long _images;
    private long _errors;
    private long _inferenceTicks;
    private Func<int>[] _depths = [];

    /// <summary>Keys of this partition listed so far.</summary>
    public long Listed => Interlocked.Read(ref _listed);

    /// <summary>Keys skipped because they were already labeled.</summary>
    public long AlreadyLabeled => Interlocked.Read(ref _alreadyLabeled);

    /// <summary>Images that left the teacher stage (labeled or failed).</summary>
    public long Images => Interlocked.Read(ref _images);

    /// <summary>Images that failed.</summary>
    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Listed images not yet through the teacher stage.</summary>
    public long InFlight => Listed - AlreadyLabeled - Images;

    /// <summary>True once every key of the partition has been listed (so <see cref="InFlight"/> is what remains).</summary>
    public bool ListingComplete
    {
        get => Volatile.Read(ref _listingComplete);
        internal set => Volatile.Write(ref _listingComplete, value);
    }

    /// <summary>Time spent in teacher forward passes.</summary>
    public TimeSpan InferenceTime => TimeSpan.FromTicks(Interlocked.Read(ref _inferenceTicks));

    /// <summary>Items waiting in each channel: fetch, decode, teacher, commit.</summary>
    public IReadOnlyList<int> QueueDepths => [.. _depths.Select(d => d())];

    internal void Attach<T1, T2, T3, T4>(ChannelReader<T1> a, ChannelReader<T2> b, ChannelReader<T3> c, ChannelReader<T4> d) =>
        _depths = [() => a.Count, () => b.Count, () => c.Count, () => d.Count];

    internal void AddListed() => Interlocked.Increment(ref _listed);

    internal void AddAlreadyLabeled() => Interlocked.Increment(ref _alreadyLabeled);

    internal void AddInference(TimeSpan elapsed) => Interlocked.Add(ref _inferenceTicks, elapsed.Ticks);

    internal void AddResult(ImageResult result)
    {
        Interlocked.Increment(ref _images);
        if (result.Error is not null)
        {
            Interlocked.Increment(ref _errors);
        }
    }
}
