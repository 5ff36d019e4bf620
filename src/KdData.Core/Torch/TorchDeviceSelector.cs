using System.Globalization;
using TorchSharp;

namespace KdData.Torch;

/// <summary>
/// Resolves the configured device name to a <see cref="torch.Device"/> at run time. The build
/// decides which LibTorch is present (CPU by default, CUDA with <c>-p:TorchBackend=cuda</c>);
/// this decides which device of that build to use.
/// </summary>
public static class TorchDeviceSelector
{
    /// <summary>Resolves <paramref name="device"/> (<c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>).</summary>
    /// <exception cref="ArgumentException">The name is not one of those.</exception>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not usable here.</exception>
    public static torch.Device Resolve(string device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var name = device.Trim().ToLowerInvariant();
        switch (name)
        {
            case "auto":
                return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
            case "cpu":
                return torch.CPU;
        }

        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            var index = name == "cuda" ? 0 : ParseIndex(device, name["cuda:".Length..]);
            if (!torch.cuda.is_available())
            {
                throw new InvalidOperationException(
                    $"Torch:Device is '{device}' but CUDA is not available: this build uses the CPU LibTorch (build with -p:TorchBackend=cuda) or no GPU is visible.");
            }

            if (index >= torch.cuda.device_count())
            {
                throw new InvalidOperationException($"Torch:Device is '{device}' but only {torch.cuda.device_count()} CUDA device(s) are visible.");
            }

            return new torch.Device(DeviceType.CUDA, index);
        }

        throw new ArgumentException($"Torch:Device '{device}' is not 'auto', 'cpu', 'cuda' or 'cuda:N'.", nameof(device));
    }

    /// <summary>Applies <see cref="TorchOptions.Threads"/> and <see cref="TorchOptions.OneDnn"/>, and resolves the device.</summary>
    public static torch.Device Initialize(TorchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        TorchRuntime.UsePolicy(options.OneDnnPolicy);
        if (options.Threads > 0)
        {
            torch.set_num_threads(options.Threads);
        }

        return Resolve(options.Device);
    }

    private static int ParseIndex(string device, string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            ? index
            : throw new ArgumentException($"Torch:Device '{device}' has an invalid CUDA index.", nameof(device));
}
