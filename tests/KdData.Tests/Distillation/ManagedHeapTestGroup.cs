namespace KdData.Tests.Distillation;

/// <summary>
/// The managed heap size is process-wide, so classes in this collection run alone (after the parallel
/// classes) to keep other tests' allocations out of the measurement.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManagedHeapTestGroup
{
    public const string Name = "Managed heap size";
}
