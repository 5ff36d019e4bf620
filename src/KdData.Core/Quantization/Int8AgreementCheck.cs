namespace KdData.Quantization;

/// <summary>
/// The check that stops a silently broken int8 model: its top-1 agreement with the fp32 model it came from, on the
/// images the command evaluates, must reach a minimum (<see cref="DefaultMinimum"/>), or the user must accept it.
/// Agreement, not accuracy, because it needs no labels and because an int8 model that overflows on one CPU kind
/// (<see cref="PairSaturationCheck"/>) shows up as disagreement even where accuracy happens to hold.
/// </summary>
public sealed record Int8AgreementCheck
{
    /// <summary>Default minimum agreement: 98 % (a correct int8 model of the convnets here agrees on 99-100 %).</summary>
    public const double DefaultMinimum = 0.98;

    /// <summary>Share of images whose int8 top-1 class is the fp32 one.</summary>
    public required double Top1Agreement { get; init; }

    /// <summary>The minimum asked for.</summary>
    public required double Minimum { get; init; }

    /// <summary>Images compared.</summary>
    public required int Images { get; init; }

    /// <summary>Whether the user accepted an agreement under the minimum (the setting named in <see cref="Describe"/>).</summary>
    public required bool AcceptLow { get; init; }

    /// <summary>True when the agreement reaches the minimum.</summary>
    public bool Passed => Top1Agreement >= Minimum;

    /// <summary>True when the command must stop: under the minimum and not accepted.</summary>
    public bool Rejected => !Passed && !AcceptLow;

    /// <summary>One line for the log, naming the figure and the settings that govern it.</summary>
    public string Describe(string minimumSetting, string acceptSetting) => Passed
        ? FormattableString.Invariant($"int8 top-1 agreement with fp32 {Top1Agreement:P2} on {Images} images (>= {minimumSetting} {Minimum:P1})")
        : FormattableString.Invariant(
            $"int8 top-1 agreement with fp32 is {Top1Agreement:P2} on {Images} images, under {minimumSetting} {Minimum:P1}: the int8 model does not compute what its fp32 model does here (8-bit weights on a CPU without VNNI, a broken kernel, or logits too close to call in an undertrained model){(AcceptLow ? $"; accepted by {acceptSetting}=true" : $". Set {acceptSetting}=true to keep it anyway, or use 7-bit weights (the default) if 8 were set")}");
}
