using System.ComponentModel.DataAnnotations;

namespace KdData.Torch;

/// <summary>Where and how TorchSharp runs. Bound from the <c>Torch</c> section.</summary>
public sealed class TorchOptions
{
    public const string SectionName = "Torch";

    /// <summary>
    /// <c>auto</c> (default): CUDA when the CUDA build is in use and a GPU is visible, else CPU;
    /// <c>cpu</c>; <c>cuda</c> or <c>cuda:N</c> (fails at start when no GPU is usable).
    /// </summary>
    [Required]
    [RegularExpression("^(auto|cpu|cuda(:[0-9]+)?)$", ErrorMessage = "Torch:Device must be 'auto', 'cpu', 'cuda' or 'cuda:N'.")]
    public string Device { get; set; } = "auto";

    /// <summary>
    /// Intra-op threads for CPU kernels. Default 0 = LibTorch's own choice (one per core).
    /// Set lower when decode workers share the cores with inference.
    /// </summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>
    /// LibTorch's oneDNN kernels (<see cref="OneDnnPolicy"/>): <c>auto</c> (default) = off, except in a training run
    /// whose models agreed with ATen's kernels in a self-test on this machine (about 2x faster convolutions);
    /// <c>off</c>; <c>on</c> = always, untested. The environment variable <c>KDDATA_TORCH_ONEDNN</c> (1 or 0) overrides it.
    /// </summary>
    [Required]
    [RegularExpression("^(auto|off|on)$", ErrorMessage = "Torch:OneDnn must be 'auto', 'off' or 'on'.")]
    public string OneDnn { get; set; } = "auto";

    /// <summary><see cref="OneDnn"/> as a policy.</summary>
    public OneDnnPolicy OneDnnPolicy => OneDnn switch
    {
        "off" => OneDnnPolicy.Off,
        "on" => OneDnnPolicy.On,
        _ => OneDnnPolicy.Auto,
    };
}
