using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text;

namespace KdData.Models;

/// <summary>
/// Names an architecture and its settings, as written in configuration and in a checkpoint record.
/// Family-specific settings are nullable: <c>null</c> means "the family's default", and a setting that
/// does not apply to the chosen family is rejected by <see cref="ModelZoo.Create"/> rather than silently
/// ignored, so a typo in configuration cannot produce a different model than intended.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record ModelSpec
{
    /// <summary>Architecture name, one of <see cref="ModelZoo.Names"/> (case-insensitive). Required; default empty.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Name { get; set; } = string.Empty;

    /// <summary>Number of output classes (logits). Default 10.</summary>
    [Range(1, 1_000_000)]
    public int NumClasses { get; set; } = 10;

    /// <summary>Number of input image channels (1 = grayscale, 3 = RGB). Default 3.</summary>
    [Range(1, 64)]
    public int InChannels { get; set; } = 3;

    /// <summary>
    /// ResNet families only: <c>"imagenet"</c> (7x7 stride-2 conv + max-pool, TorchVision's stem) or
    /// <c>"small"</c> (3x3 stride-1 conv, no max-pool, for 28-64 px inputs). Default <c>null</c> = "imagenet".
    /// </summary>
    public string? Stem { get; init; }

    /// <summary>mobilenet_v2 only: channel width multiplier, in (0, 4]. Default <c>null</c> = 1.0.</summary>
    public double? WidthMult { get; init; }

    /// <summary>convnet only: channels of the first block (later blocks double it, up to 8x), 4-256. Default <c>null</c> = 32.</summary>
    public int? Width { get; init; }

    /// <summary>
    /// convnet: number of conv blocks, 1-8 (default 3). wrn: total depth 6n+4 between 10 and 40 (default 16).
    /// Default <c>null</c> = the family's default.
    /// </summary>
    public int? Depth { get; init; }

    /// <summary>wrn only: widen factor k, 1-8. Default <c>null</c> = 2.</summary>
    public int? WidenFactor { get; init; }

    /// <summary>
    /// wrn: dropout between the two convolutions of each block; convnet: dropout on the pooled features before the
    /// classifier (Noisy Student's student noise). In [0, 1). Default <c>null</c> = 0 (no dropout module, so
    /// checkpoints without it load unchanged; dropout has no weights either way).
    /// </summary>
    public double? DropRate { get; init; }

    /// <summary>
    /// Pruned widths (<c>kddata-trainer prune</c>): the channel count of every prunable channel group of the family,
    /// in the family's fixed order (see <see cref="Pruning.PruningLayouts"/>: convnet = one per block; wrn = stem, then
    /// per group its residual stream and each block's inner width; mobilenet_v2 = stem, each block's hidden and output
    /// width, the last conv). Default <c>null</c> = the widths the other settings
    /// give. Stored in the checkpoint record so a pruned model is rebuilt from the record alone.
    /// </summary>
    public IReadOnlyList<int>? Channels { get; init; }

    /// <summary>
    /// ensemble only: the member networks, two or more, each with this spec's <see cref="NumClasses"/> and
    /// <see cref="InChannels"/>, none an ensemble itself. Default <c>null</c> (not an ensemble).
    /// </summary>
    public IReadOnlyList<ModelSpec>? Members { get; init; }

    // Records compare lists by reference; two specs naming the same widths are the same architecture (a resumed run
    // compares the checkpoint's spec, read back from JSON, with the job's).
    public bool Equals(ModelSpec? other) =>
        other is not null
        && string.Equals(Name, other.Name, StringComparison.Ordinal)
        && NumClasses == other.NumClasses
        && InChannels == other.InChannels
        && string.Equals(Stem, other.Stem, StringComparison.Ordinal)
        && WidthMult == other.WidthMult
        && Width == other.Width
        && Depth == other.Depth
        && WidenFactor == other.WidenFactor
        && DropRate == other.DropRate
        && (Channels is null ? other.Channels is null : other.Channels is not null && Channels.SequenceEqual(other.Channels))
        && (Members is null ? other.Members is null : other.Members is not null && Members.SequenceEqual(other.Members));

    // Messages print specs (e.g. a resume refusing another architecture); show the widths, not the list's type name.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Name = {Name}, NumClasses = {NumClasses}, InChannels = {InChannels}");
        foreach (var (name, value) in new (string, object?)[]
        {
            (nameof(Stem), Stem), (nameof(WidthMult), WidthMult), (nameof(Width), Width), (nameof(Depth), Depth),
            (nameof(WidenFactor), WidenFactor), (nameof(DropRate), DropRate),
        })
        {
            if (value is not null)
            {
                builder.Append(CultureInfo.InvariantCulture, $", {name} = {value}");
            }
        }
        if (Channels is not null)
        {
            builder.Append(", Channels = [").AppendJoin(", ", Channels).Append(']');
        }
        if (Members is not null)
        {
            builder.Append(", Members = [").AppendJoin(", ", Members.Select(m => $"{{ {m.PrintMembersText()} }}")).Append(']');
        }
        return true;
    }

    private string PrintMembersText()
    {
        var builder = new StringBuilder();
        PrintMembers(builder);
        return builder.ToString();
    }

    public override int GetHashCode()
    {
        var hash = HashCode.Combine(Name, NumClasses, InChannels, Stem, WidthMult, Width, Depth, HashCode.Combine(WidenFactor, DropRate));
        foreach (var c in Channels ?? [])
        {
            hash = HashCode.Combine(hash, c);
        }
        foreach (var member in Members ?? [])
        {
            hash = HashCode.Combine(hash, member);
        }
        return hash;
    }
}
