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
}
