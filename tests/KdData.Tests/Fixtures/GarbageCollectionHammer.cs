namespace KdData.Tests.Fixtures;

/// <summary>
/// Runs a body while another thread collects garbage and runs finalizers all the time: the conditions under which a
/// TorchSharp Scalar nobody holds is freed while libtorch reads it (docs/operations.md, "TorchSharp Scalars and the GC"). A broken
/// version can pass a run; a fixed one cannot fail.
/// </summary>
internal static class GarbageCollectionHammer
{
    public static void Run(Action body)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var stress = KdData.Torch.GarbageCollectorStress.Start();
        body();
    }
}
