namespace KdData.Tests.Pruning;

/// <summary>
/// Torch's default random generator is process-wide: these classes seed it and build and run many models, which would
/// shift the draws of a parallel test that reseeds and expects exact numbers (the training loop's bit-exact resume
/// test). So they run alone, after the parallel classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGeneratorTestGroup
{
    public const string Name = "Torch generator";
}
