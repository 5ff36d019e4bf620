namespace KdData.Datasets;

/// <summary>Class names of well-known IDX datasets (the files themselves carry only numbers).</summary>
public static class KnownClassNames
{
    /// <summary>Fashion-MNIST's ten classes, index = label.</summary>
    public static IReadOnlyList<string> FashionMnist { get; } =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    /// <summary>MNIST's digits.</summary>
    public static IReadOnlyList<string> Mnist { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Names for a preset (<c>fashion-mnist</c>, <c>mnist</c>), or null when unknown.</summary>
    public static IReadOnlyList<string>? ForPreset(string preset) => preset.ToLowerInvariant() switch
    {
        "fashion-mnist" => FashionMnist,
        "mnist" => Mnist,
        _ => null,
    };
}
