namespace KdData.Tests.Fixtures;

/// <summary>
/// Torch's default random generator is process-wide, so a test that seeds it and expects exact numbers (the training
/// loop's bit-exact resume, same-seed reproduction, a fixed-seed accuracy margin) fails at random when a parallel test
/// draws from it in between; and classes that seed it and build many models shift everyone else's draws. All of those
/// join this collection: it runs alone, after the parallel classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGeneratorTestGroup
{
    public const string Name = "Torch generator";
}
