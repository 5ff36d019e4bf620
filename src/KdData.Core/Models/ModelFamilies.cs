namespace KdData.Models;

/// <summary>
/// The architecture names <see cref="ModelSpec.Name"/> takes, in one place: the zoo builds them, and the stages that
/// support only some families (pruning layouts, QAT, the self-training student's dropout) name them from here rather
/// than as string literals that could drift apart. Names compare case-insensitively (<see cref="Is"/>), as the zoo
/// accepts them.
/// </summary>
public static class ModelFamilies
{
    /// <summary>The plain conv-BN-ReLU-maxpool stack (<see cref="PlainConvNet"/>); the default teacher and student.</summary>
    public const string ConvNet = "convnet";

    /// <summary>The pre-activation Wide-ResNet for small inputs (<see cref="WideResNetModule"/>).</summary>
    public const string WideResNet = "wrn";

    /// <summary>TorchVision's MobileNetV2 (with pruned widths: <see cref="PrunableMobileNetV2"/>).</summary>
    public const string MobileNetV2 = "mobilenet_v2";

    /// <summary>Global average pooling + one linear layer: a near-free forward pass for measuring the Labeler's feed path.</summary>
    public const string PooledLinear = "avgpool_linear";

    /// <summary>
    /// Several trained networks as one teacher (<see cref="EnsembleModule"/>): the log of their mean class
    /// probabilities. Built from checkpoints by <c>kddata-trainer ensemble</c>; its members are <see cref="ModelSpec.Members"/>.
    /// </summary>
    public const string Ensemble = "ensemble";

    public const string ResNet18 = "resnet18";
    public const string ResNet34 = "resnet34";
    public const string ResNet50 = "resnet50";
    public const string ResNet101 = "resnet101";
    public const string ResNet152 = "resnet152";
    public const string WideResNet50x2 = "wide_resnet50_2";

    /// <summary>TorchVision's ResNets (fixed widths: they cannot be pruned).</summary>
    public static IReadOnlyList<string> ResNets { get; } = [ResNet18, ResNet34, ResNet50, ResNet101, ResNet152, WideResNet50x2];

    /// <summary>
    /// The families with a dropout setting (<see cref="ModelSpec.DropRate"/>): the only ones a self-training student
    /// can be noised with dropout.
    /// </summary>
    public static IReadOnlyList<string> WithDropout { get; } = [ConvNet, WideResNet];

    /// <summary>Whether <paramref name="name"/> (as written in a spec or record, any case, surrounding blanks ignored) is <paramref name="family"/>.</summary>
    public static bool Is(string? name, string family) => string.Equals(name?.Trim(), family, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether <paramref name="name"/> is one of <paramref name="families"/>.</summary>
    public static bool IsAny(string? name, IEnumerable<string> families) => families.Any(f => Is(name, f));
}
