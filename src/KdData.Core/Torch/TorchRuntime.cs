using System.Runtime.InteropServices;
using TorchSharp;

namespace KdData.Torch;

/// <summary>
/// Process-wide LibTorch settings applied before any model runs. One today: LibTorch's oneDNN (MKLDNN) convolutions
/// are switched off, as Python's <c>torch.backends.mkldnn.enabled = False</c> does, so convolutions run on ATen's own
/// CPU kernels (im2col + BLAS). Why: on an AMD Zen 5 machine (family 26, AVX-512 VNNI) LibTorch 2.10's oneDNN 3.7.1
/// returned wrong forward convolutions for some shapes (batch 5 with 18→19, 19→34, 34→39 or 39→80 channels: errors of
/// 1.5-3.7 against a direct sum; <c>TorchRuntimeTests</c>), which made a pruned model's ONNX export disagree with
/// TorchSharp and a pruned model's KD fine-tune diverge to NaN; ATen's kernels are right there. Correctness costs
/// speed: the 94k convnet trained at 0.65x the images/s with oneDNN off (bench/training/onednn-abab.md, that Zen 5).
/// So oneDNN is off by default and comes back per piece of work through <see cref="OneDnnScope"/>: under
/// <c>Torch:OneDnn=auto</c> (the hosts' default, <see cref="UsePolicy"/>) a training run turns it on after
/// <see cref="OneDnnSelfTest"/> found it agreeing with ATen on that run's models on this machine.
/// <c>KDDATA_TORCH_ONEDNN=1</c> keeps oneDNN on, <c>0</c> keeps it off. <c>KDDATA_GC_STRESS=1</c> also starts <see cref="GarbageCollectorStress"/> (soak tests).
/// NNPACK is switched off with it: ATen tries it next, and where it cannot start (it could not on that machine:
/// "Unsupported hardware") it warns on every convolution; off, every machine runs the same im2col + BLAS path.
/// TorchSharp has no binding for the switch, so it calls LibTorch's exported <c>at::Context</c> members directly;
/// where they cannot be called (another LibTorch), <see cref="OneDnnEnabled"/> stays true and
/// <see cref="Problem"/> says why.
/// </summary>
public static class TorchRuntime
{
    /// <summary>
    /// Environment variable that overrides <c>Torch:OneDnn</c> for the process: <c>1</c> = <see cref="OneDnnPolicy.On"/>,
    /// <c>0</c> = <see cref="OneDnnPolicy.Off"/> (the test assembly sets <c>0</c>, so tests running in parallel never see
    /// the switch flip under them).
    /// </summary>
    public const string OneDnnVariable = "KDDATA_TORCH_ONEDNN";

    private static readonly Lock Gate = new();
    private static bool _configured;

    /// <summary>Whether LibTorch's oneDNN kernels are in use now.</summary>
    public static bool OneDnnEnabled { get; private set; } = true;

    /// <summary>Why oneDNN could not be switched off, or null.</summary>
    public static string? Problem { get; private set; }

    /// <summary>
    /// When oneDNN may run (<see cref="OneDnnScope"/> reads it): <see cref="OneDnnPolicy.Off"/> until a host applies
    /// <c>Torch:OneDnn</c> with <see cref="UsePolicy"/>, or what <see cref="OneDnnVariable"/> forces.
    /// </summary>
    public static OneDnnPolicy Policy { get; private set; } = OneDnnPolicy.Off;

    /// <summary>Applies the settings once per process (later calls do nothing); never throws.</summary>
    public static void Configure()
    {
        lock (Gate)
        {
            if (_configured)
            {
                return;
            }
            _configured = true;
            GarbageCollectorStress.StartIfRequested();
            var forced = ForcedPolicy();
            if (forced is { } policy)
            {
                Policy = policy;
            }
            try
            {
                // Loads LibTorch (TorchSharp loads it on first use) so that its exports can be bound.
                torch.InitializeDeviceType(DeviceType.CPU);
                var context = NativeMethods.GlobalContext();
                NativeMethods.SetUserEnabledNnpack(context, false);
                NativeMethods.SetUserEnabledMkldnn(context, Policy == OneDnnPolicy.On);
                OneDnnEnabled = NativeMethods.UserEnabledMkldnn(context);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
            {
                Problem = $"oneDNN stays on: LibTorch's at::Context could not be called ({e.GetType().Name}: {e.Message})";
            }
        }
    }

    /// <summary>
    /// Sets <see cref="Policy"/> from <c>Torch:OneDnn</c>, unless <see cref="OneDnnVariable"/> forces one.
    /// <see cref="OneDnnPolicy.On"/> turns oneDNN on at once; the others leave it off outside a <see cref="OneDnnScope"/>.
    /// </summary>
    public static void UsePolicy(OneDnnPolicy policy)
    {
        Configure();
        lock (Gate)
        {
            Policy = ForcedPolicy() ?? policy;
            if (Problem is null)
            {
                SetOneDnn(Policy == OneDnnPolicy.On);
            }
        }
    }

    /// <summary>Flips LibTorch's process-wide switch (<see cref="OneDnnSelfTest"/> and <see cref="OneDnnScope"/>).</summary>
    internal static void SetOneDnn(bool enabled)
    {
        Configure();
        if (Problem is not null)
        {
            throw new InvalidOperationException(Problem);
        }
        var context = NativeMethods.GlobalContext();
        NativeMethods.SetUserEnabledMkldnn(context, enabled);
        OneDnnEnabled = NativeMethods.UserEnabledMkldnn(context);
    }

    private static OneDnnPolicy? ForcedPolicy() => Environment.GetEnvironmentVariable(OneDnnVariable) switch
    {
        "1" => OneDnnPolicy.On,
        "0" => OneDnnPolicy.Off,
        _ => null,
    };

    private static class NativeMethods
    {
        private const string LibTorchCpu = "libtorch_cpu";

        [DllImport(LibTorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
        internal static extern IntPtr GlobalContext();

        [DllImport(LibTorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
        internal static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(LibTorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
        internal static extern void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

        [DllImport(LibTorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static extern bool UserEnabledMkldnn(IntPtr context);
    }
}
