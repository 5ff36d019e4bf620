namespace KdData.Models;

/// <summary>
/// How input images must be prepared for a checkpoint's model: resized to <see cref="Width"/> x
/// <see cref="Height"/>, converted to <see cref="Channels"/> channels, scaled to [0, 1] and normalized per
/// channel with <see cref="Mean"/> and <see cref="Std"/>. Only a record; the imaging code lives elsewhere.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record PreprocessingRecord
{
    /// <summary>Input width in pixels. Default 32.</summary>
    public int Width { get; set; } = 32;

    /// <summary>Input height in pixels. Default 32.</summary>
    public int Height { get; set; } = 32;

    /// <summary>Number of channels (1 or 3). Default 3.</summary>
    public int Channels { get; set; } = 3;

    /// <summary>Per-channel mean subtracted after scaling to [0, 1]. Default empty (no normalization).</summary>
    public IReadOnlyList<float> Mean { get; set; } = [];

    /// <summary>Per-channel standard deviation divided by after subtracting the mean. Default empty.</summary>
    public IReadOnlyList<float> Std { get; set; } = [];

    /// <summary>
    /// True when <paramref name="other"/> prepares an image exactly as this record does: the same size, channels, and
    /// mean and std element by element. (The record's own <c>Equals</c> compares the two lists by reference.)
    /// </summary>
    public bool SameInput(PreprocessingRecord? other) =>
        other is not null && Width == other.Width && Height == other.Height && Channels == other.Channels
        && Mean.SequenceEqual(other.Mean) && Std.SequenceEqual(other.Std);

    /// <summary>The record for messages: <c>28x28, 1 channel(s), mean [0.286], std [0.353]</c>.</summary>
    public string Describe() => $"{Width}x{Height}, {Channels} channel(s), mean [{string.Join(", ", Mean)}], std [{string.Join(", ", Std)}]";
}
