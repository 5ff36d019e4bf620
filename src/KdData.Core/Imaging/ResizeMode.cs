namespace KdData.Imaging;

/// <summary>How a whole image (no explicit <see cref="CropBox"/>) is mapped to the square output.</summary>
public enum ResizeMode
{
    /// <summary>Resize the shorter side to <see cref="ImageOptions.ResizeSize"/> (aspect kept), then take the
    /// centered <see cref="ImageOptions.OutputSize"/> square (the usual ImageNet eval transform).</summary>
    ShorterSideCenterCrop = 0,

    /// <summary>Resize both sides to <see cref="ImageOptions.OutputSize"/>, ignoring the aspect ratio.</summary>
    Stretch = 1,
}
