namespace KdData.Tests.Infrastructure;

/// <summary>
/// Runs a body while another thread collects garbage and runs finalizers all the time: the conditions under which a
/// TorchSharp Scalar nobody holds is freed while libtorch reads it (README, "TorchSharp Scalars and the GC"). A broken
/// version can pass a run; a fixed one cannot fail.
/// </summary>
internal static class GarbageCollectionHammer
{
    public static void Run(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var stop = false;
        var collector = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            body();
        }
        finally
        {
            Volatile.Write(ref stop, true);
            collector.Join();
        }
    }
}
