using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Relational knowledge distillation: Park, Kim, Lu and Cho 2019, "Relational Knowledge Distillation" (CVPR 2019,
/// arXiv:1904.05068). The student matches the teacher's distances and angles between the samples of a batch in
/// embedding space, not the embeddings themselves (so their dimensions may differ).
/// </summary>
/// <remarks>
/// <para>With embeddings e_i (the penultimate features, flattened) of the N samples of a batch, for teacher and student
/// alike, and Huber loss <c>l_delta(x, y) = 0.5 (x - y)^2</c> if <c>|x - y| &lt;= 1</c>, else <c>|x - y| - 0.5</c>
/// (delta = 1, PyTorch's <c>smooth_l1_loss</c>):</para>
/// <list type="bullet">
/// <item><description>distance-wise: <c>psi_D(i, j) = ||e_i - e_j||_2 / mu</c>, <c>mu = mean_{i != j} ||e_i - e_j||_2</c>
/// (normalised by the batch's mean distance, per network);
/// <c>L_D = mean_{i != j} l_delta(psi_D^s(i, j), psi_D^t(i, j))</c>;</description></item>
/// <item><description>angle-wise: <c>psi_A(i, j, k) = &lt; (e_i - e_j)/||e_i - e_j||, (e_k - e_j)/||e_k - e_j|| &gt;</c>
/// (the cosine of the angle at j); <c>L_A = mean_{i,j,k} l_delta(psi_A^s, psi_A^t)</c> over all N^3 triples, a zero
/// difference vector normalising to 0 (so degenerate triples give 0 on both sides), as the authors'
/// implementation does;</description></item>
/// <item><description><c>L_RKD = lambda_D L_D + lambda_A L_A</c> with the paper's lambda_D = 25, lambda_A = 50.</description></item>
/// </list>
/// <para>The teacher side is detached. Both terms are computed from the Gram matrix of the batch
/// (<c>&lt;e_i - e_j, e_k - e_j&gt; = G_ik - G_ij - G_kj + G_jj</c>), so the angle term costs N^3 values per batch
/// (2M floats at N = 128) whatever the embedding size.</para>
/// </remarks>
public static class RelationalKdLoss
{
    /// <summary>lambda_D of the paper.</summary>
    public const double DefaultDistanceWeight = 25.0;

    /// <summary>lambda_A of the paper.</summary>
    public const double DefaultAngleWeight = 50.0;

    /// <summary>L_D for (N, D_s) student and (N, D_t) teacher embeddings, N &gt;= 2.</summary>
    public static Tensor Distance(Tensor student, Tensor teacher)
    {
        Check(student, teacher);
        var n = student.shape[0];
        var offDiagonal = eye(n, dtype: ScalarType.Bool, device: student.device).logical_not();
        var s = NormalisedDistances(student, offDiagonal);
        var t = NormalisedDistances(teacher.detach(), offDiagonal);
        return nn.functional.smooth_l1_loss(s.masked_select(offDiagonal), t.masked_select(offDiagonal));
    }

    /// <summary>L_A for (N, D_s) student and (N, D_t) teacher embeddings, N &gt;= 2.</summary>
    public static Tensor Angle(Tensor student, Tensor teacher)
    {
        Check(student, teacher);
        return nn.functional.smooth_l1_loss(Cosines(student), Cosines(teacher.detach()));
    }

    /// <summary><c>lambda_D L_D + lambda_A L_A</c>.</summary>
    public static Tensor Compute(Tensor student, Tensor teacher, double distanceWeight = DefaultDistanceWeight, double angleWeight = DefaultAngleWeight) =>
        HeldScalars.Add(HeldScalars.Mul(Distance(student, teacher), distanceWeight), HeldScalars.Mul(Angle(student, teacher), angleWeight));

    private static Tensor NormalisedDistances(Tensor e, Tensor offDiagonal)
    {
        var d = Distances(e.matmul(e.t()), offDiagonal);
        var mean = d.masked_select(offDiagonal).mean();
        return d / mean;
    }

    /// <summary>Pairwise distances from the Gram matrix G, 0 on the diagonal.</summary>
    private static Tensor Distances(Tensor gram, Tensor offDiagonal)
    {
        // ||e_i - e_j||^2 = G_ii + G_jj - 2 G_ij, clamped before the root: sqrt at 0 has an infinite gradient.
        var squared = gram.diagonal();
        var d2 = HeldScalars.ClampMin(HeldScalars.Add(squared.unsqueeze(1), squared.unsqueeze(0)) - HeldScalars.Mul(gram, 2), 1e-12);
        return where(offDiagonal, d2.sqrt(), 0.0);
    }

    private static Tensor Cosines(Tensor e)
    {
        // cos(i, j, k) = <e_i - e_j, e_k - e_j> / (d_ij d_kj) = (G_ik - G_ij - G_kj + G_jj) / (d_ij d_kj), from the
        // Gram matrix: N^3 values whatever the embedding size (the (N, N, D) difference tensor would be D times larger).
        // Laid out [j, i, k]; a zero distance (i = j or k = j) gives 0, as normalising a zero vector does.
        var n = e.shape[0];
        var gram = e.matmul(e.t());
        var d = Distances(gram, eye(n, dtype: ScalarType.Bool, device: e.device).logical_not());
        var numerator = HeldScalars.Add(gram.unsqueeze(0) - gram.unsqueeze(2) - gram.unsqueeze(1), gram.diagonal().view(n, 1, 1));
        var denominator = d.unsqueeze(2) * d.unsqueeze(1);
        var defined = HeldScalars.Gt(denominator, 1e-12);
        // The masked branch divides by 1, so its (unused) gradient stays finite.
        return where(defined, numerator / where(defined, denominator, 1.0), 0.0).flatten();
    }

    private static void Check(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (student.dim() != 2 || teacher.dim() != 2 || student.shape[0] != teacher.shape[0] || student.shape[0] < 2)
        {
            throw new ArgumentException(
                $"RKD needs (N, D) embeddings of the same N >= 2; got student ({string.Join(", ", student.shape)}) and teacher ({string.Join(", ", teacher.shape)}).");
        }
    }
}
