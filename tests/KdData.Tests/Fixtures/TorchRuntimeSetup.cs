using System.Runtime.CompilerServices;
using KdData.Torch;

namespace KdData.Tests.Fixtures;

/// <summary>
/// Applies the hosts' process-wide LibTorch settings (<see cref="TorchRuntime"/>) before any test runs a model, with
/// oneDNN forced off (<c>KDDATA_TORCH_ONEDNN=0</c>, inherited by the Labeler and Trainer processes tests start): its
/// switch is process-wide, and a training run under <c>Torch:OneDnn=auto</c> would flip it under the classes running
/// in parallel (the bit-for-bit resume tests, the convolution checks). <c>OneDnnSelfTestTests</c> flip it alone.
/// </summary>
internal static class TorchRuntimeSetup
{
    [ModuleInitializer]
    internal static void Configure()
    {
        Environment.SetEnvironmentVariable(TorchRuntime.OneDnnVariable, "0");
        TorchRuntime.Configure();
    }
}
