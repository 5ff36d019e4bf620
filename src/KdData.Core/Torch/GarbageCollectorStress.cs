namespace KdData.Torch;

/// <summary>
/// A background thread that collects garbage and runs finalizers without pause: the conditions under which a TorchSharp
/// <c>Scalar</c> that nobody holds is freed while libtorch still reads it (docs/operations.md, "TorchSharp Scalars and the GC").
/// Tests run loops under it; a process runs under it when <see cref="Variable"/> is <c>1</c> (the soak,
/// bench/training/soak.sh), which slows training several times over and is never meant for real runs.
/// </summary>
public sealed class GarbageCollectorStress : IDisposable
{
    /// <summary>Environment variable that puts a whole process under stress when set to <c>1</c>.</summary>
    public const string Variable = "KDDATA_GC_STRESS";

    private static readonly Lock Gate = new();
    private static GarbageCollectorStress? _process;
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _collections;

    private GarbageCollectorStress()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "gc-stress" };
        _thread.Start();
    }

    /// <summary>Collections made so far.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    /// <summary>Starts a stress thread; dispose to stop it.</summary>
    public static GarbageCollectorStress Start() => new();

    /// <summary>Starts the process-wide stress thread once when <see cref="Variable"/> is <c>1</c>; true when it runs.</summary>
    public static bool StartIfRequested()
    {
        if (Environment.GetEnvironmentVariable(Variable) != "1")
        {
            return false;
        }

        lock (Gate)
        {
            if (_process is null)
            {
                _process = Start();
                Console.Error.WriteLine($"warning: {Variable}=1: collecting garbage and running finalizers without pause (a soak test; training is several times slower)");
            }
        }

        return true;
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }

    private void Loop()
    {
        while (!_stop)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref _collections);
        }
    }
}
