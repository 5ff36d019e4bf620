using System.Runtime.CompilerServices;
using KdData.Torch;

namespace KdData.Tests.Fixtures;

/// <summary>Applies the hosts' process-wide LibTorch settings (<see cref="TorchRuntime"/>) before any test runs a model.</summary>
internal static class TorchRuntimeSetup
{
    [ModuleInitializer]
    internal static void Configure() => TorchRuntime.Configure();
}
