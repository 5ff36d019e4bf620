namespace KdData.Imaging;

/// <summary>A sampled augmentation: the crop box and whether the crop is mirrored horizontally.</summary>
public readonly record struct CropDecision(CropBox Box, bool FlipHorizontal);
