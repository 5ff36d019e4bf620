namespace KdData.Augmentation;

/// <summary>
/// How a batch's images were mixed (MixUp or CutMix): row i shows <see cref="Lambda"/> of its own sample and
/// <c>1 - Lambda</c> of sample <see cref="Partner"/>[i] (by pixel weight for MixUp, by area for CutMix). The batch's
/// <c>LabeledBatch.Labels</c> and teacher rows stay those of each row's own sample; the objective mixes targets
/// with the same weights (<c>Objectives.ObjectiveMix</c>).
/// </summary>
/// <param name="Kind"><see cref="MixUp"/> or <see cref="CutMix"/>.</param>
/// <param name="Lambda">Weight of each row's own sample, in [0, 1]; one value per batch.</param>
/// <param name="Partner">Per row, the row whose sample is mixed in (a row may be its own partner).</param>
/// <param name="Box">CutMix only: the pasted box (x, y, width, height) in pixels; null for MixUp.</param>
#pragma warning disable CA1819 // A plain per-batch buffer, handed to a tensor.
public sealed record BatchMix(string Kind, double Lambda, int[] Partner, (int X, int Y, int Width, int Height)? Box)
#pragma warning restore CA1819
{
    public const string MixUp = "mixup";
    public const string CutMix = "cutmix";
}
