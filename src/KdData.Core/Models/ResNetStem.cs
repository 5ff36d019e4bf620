namespace KdData.Models;

/// <summary>The accepted values of <see cref="ModelSpec.Stem"/>.</summary>
public static class ResNetStem
{
    /// <summary>TorchVision's stem: 7x7 stride-2 convolution followed by a 3x3 stride-2 max-pool.</summary>
    public const string ImageNet = "imagenet";

    /// <summary>Stem for 28-64 px inputs: 3x3 stride-1 convolution and no max-pool.</summary>
    public const string Small = "small";
}
