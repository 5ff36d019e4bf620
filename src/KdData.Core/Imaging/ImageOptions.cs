using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace KdData.Imaging;

/// <summary>
/// Decoding limits and preprocessing settings (bound from the <c>Imaging</c> configuration section).
/// </summary>
/// <remarks>
/// Alpha handling: transparent images are composited (premultiplied, source-over) onto the opaque
/// <see cref="Background"/> colour. We chose compositing over "drop alpha and keep the stored RGB" because
/// the RGB under fully transparent pixels is arbitrary (often black or garbage) and would leak into the
/// tensor; compositing gives a defined, premultiplication-correct result.
/// </remarks>
public sealed class ImageOptions : IValidatableObject
{
    public const string SectionName = "Imaging";

    /// <summary>ImageNet channel means used when <see cref="Mean"/> is not set and <see cref="Channels"/> is 3.</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet channel standard deviations used when <see cref="Std"/> is not set and <see cref="Channels"/> is 3.</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Side of the square output in pixels. Default 224.</summary>
    [Range(1, 4096)]
    public int OutputSize { get; set; } = 224;

    /// <summary>Shorter-side length before the center crop in <see cref="ResizeMode.ShorterSideCenterCrop"/>
    /// mode; must be at least <see cref="OutputSize"/>. Default 256 (224/256 = 0.875 crop ratio).</summary>
    [Range(1, 8192)]
    public int ResizeSize { get; set; } = 256;

    /// <summary>How a whole image is mapped to the output when no crop box is given.
    /// Default <see cref="ResizeMode.ShorterSideCenterCrop"/>.</summary>
    [EnumDataType(typeof(ResizeMode))]
    public ResizeMode ResizeMode { get; set; } = ResizeMode.ShorterSideCenterCrop;

    /// <summary>Output channels: 3 (RGB) or 1 (BT.601 luma 0.299R + 0.587G + 0.114B). Default 3.</summary>
    [AllowedValues(1, 3)]
    public int Channels { get; set; } = 3;

    /// <summary>Per-channel mean subtracted from values in [0, 1]; one entry per channel. Default null, meaning
    /// <see cref="ImageNetMean"/> for 3 channels and their average (0.449) for 1 channel. Null rather than a
    /// pre-filled list because the configuration binder appends to existing collections.</summary>
    public IReadOnlyList<float>? Mean { get; set; }

    /// <summary>Per-channel standard deviation (all &gt; 0); one entry per channel. Default null, meaning
    /// <see cref="ImageNetStd"/> for 3 channels and their average (0.226) for 1 channel.</summary>
    public IReadOnlyList<float>? Std { get; set; }

    /// <summary>Opaque colour (<c>#RRGGBB</c>) that transparent images are composited onto. Default <c>#FFFFFF</c>.</summary>
    [Required]
    [RegularExpression("^#[0-9A-Fa-f]{6}$")]
    public string Background { get; set; } = "#FFFFFF";

    /// <summary>Largest width x height a header may declare; larger images are refused before any pixel is
    /// decoded (decompression bombs). Default 64,000,000 (e.g. 8000 x 8000).</summary>
    [Range(1L, long.MaxValue)]
    public long MaxPixels { get; set; } = 64_000_000;

    /// <summary>Largest accepted encoded size in bytes. Default 67,108,864 (64 MiB).</summary>
    [Range(1L, long.MaxValue)]
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The means actually used (explicit or the documented default), one per channel.</summary>
    public IReadOnlyList<float> GetEffectiveMean() =>
        Mean ?? (Channels == 3 ? ImageNetMean : [0.449f]);

    /// <summary>The standard deviations actually used (explicit or the documented default), one per channel.</summary>
    public IReadOnlyList<float> GetEffectiveStd() =>
        Std ?? (Channels == 3 ? ImageNetStd : [0.226f]);

    /// <summary>
    /// The images a checkpoint expects: its recorded preprocessing (size, channels, normalisation; an empty mean or std
    /// is 0 or 1 per channel) with this instance's decoding settings (resize mode, background, limits). The whole
    /// image is scaled to the model's input (<see cref="ResizeSize"/> = <see cref="OutputSize"/>), as the Labeler does;
    /// evaluate, export and quantize read a checkpoint's images this way.
    /// </summary>
    public ImageOptions ForPreprocessing(Models.PreprocessingRecord preprocessing)
    {
        ArgumentNullException.ThrowIfNull(preprocessing);
        return new ImageOptions
        {
            OutputSize = preprocessing.Width,
            ResizeSize = preprocessing.Width,
            ResizeMode = ResizeMode,
            Channels = preprocessing.Channels,
            Mean = preprocessing.Mean.Count == 0 ? [.. Enumerable.Repeat(0f, preprocessing.Channels)] : [.. preprocessing.Mean],
            Std = preprocessing.Std.Count == 0 ? [.. Enumerable.Repeat(1f, preprocessing.Channels)] : [.. preprocessing.Std],
            Background = Background,
            MaxPixels = MaxPixels,
            MaxBytes = MaxBytes,
        };
    }

    /// <summary>What a checkpoint records of this preprocessing: the input a model trained on it expects.</summary>
    public Models.PreprocessingRecord ToPreprocessingRecord() => new()
    {
        Width = OutputSize,
        Height = OutputSize,
        Channels = Channels,
        Mean = [.. GetEffectiveMean()],
        Std = [.. GetEffectiveStd()],
    };

    /// <summary>Cross-property rules that attributes cannot express.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (ResizeMode == ResizeMode.ShorterSideCenterCrop && ResizeSize < OutputSize)
        {
            yield return new ValidationResult(
                string.Create(CultureInfo.InvariantCulture, $"ResizeSize ({ResizeSize}) must be >= OutputSize ({OutputSize}) for ShorterSideCenterCrop."),
                [nameof(ResizeSize)]);
        }

        if (Mean is not null && Mean.Count != Channels)
        {
            yield return new ValidationResult(
                string.Create(CultureInfo.InvariantCulture, $"Mean has {Mean.Count} entries but Channels is {Channels}."),
                [nameof(Mean)]);
        }

        if (Mean is not null && Mean.Any(m => !float.IsFinite(m)))
        {
            yield return new ValidationResult("Mean entries must be finite.", [nameof(Mean)]);
        }

        if (Std is not null && Std.Count != Channels)
        {
            yield return new ValidationResult(
                string.Create(CultureInfo.InvariantCulture, $"Std has {Std.Count} entries but Channels is {Channels}."),
                [nameof(Std)]);
        }

        if (Std is not null && Std.Any(s => !float.IsFinite(s) || s <= 0f))
        {
            yield return new ValidationResult("Std entries must be finite and > 0.", [nameof(Std)]);
        }
    }
}
