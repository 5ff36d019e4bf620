using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Activation-based attention transfer: Zagoruyko and Komodakis 2017, "Paying More Attention to Attention: Improving
/// the Performance of Convolutional Neural Networks via Attention Transfer" (ICLR 2017, arXiv:1612.03928).
/// </summary>
/// <remarks>
/// <para>Attention map of features F (N, C, H, W): the mean over channels of the squared activations, flattened and
/// L2-normalised per sample (the paper's F^p_mean with p = 2):</para>
/// <para><c>Q(F)_n = vec( (1/C) sum_c F_{n,c}^2 ),   a(F)_n = Q(F)_n / ||Q(F)_n||_2</c>  (a vector of H*W values).</para>
/// <para>Loss over the chosen layer pairs j (student layer, teacher layer):</para>
/// <para><c>L_AT = (beta / 2) * sum_j mean_{n,k} ( a(F_s^j)_{n,k} - a(F_t^j)_{n,k} )^2</c></para>
/// <para>with beta = 1000 by default. The paper writes <c>beta/2 * sum_j || a_s - a_t ||_p</c> and uses beta = 1000;
/// its reference implementation squares the difference and averages over the batch and the H*W positions, which is the
/// form used here: it equals <c>(beta / 2) * sum_j mean_n ||a_s - a_t||_2^2 / (H*W)</c>, so beta = 1000 gives a term of
/// the same order as the cross-entropy whatever the map size. (The 1/C of the channel mean cancels in the
/// normalisation, so the map is the same as the paper's channel sum.) When a pair's maps differ in size, the larger map
/// is adaptive-average-pooled (as a 2-D map, before flattening and normalising) to the smaller's size. The channel
/// counts of a pair may differ: the map has none.</para>
/// </remarks>
public static class AttentionTransferLoss
{
    /// <summary>The paper's beta.</summary>
    public const double DefaultBeta = 1000.0;

    /// <summary>a(F): (N, H*W) L2-normalised attention maps of <paramref name="features"/> (N, C, H, W).</summary>
    public static Tensor AttentionMap(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 4)
        {
            throw new ArgumentException($"Attention transfer needs (N, C, H, W) features; got ({string.Join(", ", features.shape)}).", nameof(features));
        }
        return nn.functional.normalize(HeldScalars.Pow(features, 2).mean([1L]).flatten(1), p: 2, dim: 1);
    }

    /// <summary>L_AT over the (student, teacher) feature pairs; the teacher side is detached.</summary>
    public static Tensor Compute(IReadOnlyList<(Tensor Student, Tensor Teacher)> pairs, double beta = DefaultBeta)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0)
        {
            throw new ArgumentException("Attention transfer needs at least one layer pair.", nameof(pairs));
        }
        Tensor? total = null;
        foreach (var (student, teacher) in pairs)
        {
            if (student.dim() != 4 || teacher.dim() != 4 || student.shape[0] != teacher.shape[0])
            {
                throw new ArgumentException(
                    $"Attention transfer features must both be (N, C, H, W) with the same N; got ({string.Join(", ", student.shape)}) and ({string.Join(", ", teacher.shape)}).", nameof(pairs));
            }
            // Pool the squared-activation maps (N, 1, H, W) to a common size, then normalise.
            var (s, t) = HintLoss.AlignSpatially(HeldScalars.Pow(student, 2).mean([1L], keepdim: true), HeldScalars.Pow(teacher.detach(), 2).mean([1L], keepdim: true));
            var term = HeldScalars.Pow(nn.functional.normalize(s.flatten(1), p: 2, dim: 1) - nn.functional.normalize(t.flatten(1), p: 2, dim: 1), 2).mean();
            total = total is null ? term : HeldScalars.Add(total, term);
        }
        return HeldScalars.Mul(total!, beta / 2);
    }
}
