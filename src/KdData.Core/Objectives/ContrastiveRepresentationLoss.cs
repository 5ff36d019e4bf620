using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Contrastive representation distillation: Tian, Krishnan and Isola 2020, "Contrastive Representation Distillation"
/// (ICLR 2020, arXiv:1910.10699). The student's embedding of an image must pick out the teacher's embedding of the same
/// image among the teacher's embeddings of other images (negatives from a memory bank), and vice versa.
/// </summary>
/// <remarks>
/// <para>Heads: <c>g_s(x) = W_s x + b_s</c> and <c>g_t(x) = W_t x + b_t</c> (linear, to <c>dim</c>, trained with the
/// student), then L2 normalisation: <c>z_s = g_s(h_s)/||g_s(h_s)||</c>, <c>z_t = g_t(h_t)/||g_t(h_t)||</c>, with h the
/// penultimate embeddings. Memory banks <c>M_s</c>, <c>M_t</c> of <c>K</c> unit rows each (buffers, saved with the
/// checkpoint) hold momentum averages of past embeddings; sample i lives in slot <c>k(i) = id_i mod K</c>.</para>
/// <para>Objective, with temperature tau = 0.07, for each sample i of the batch (N samples):</para>
/// <para><c>l_s(i) = -log( exp(z_s,i . z_t,i / tau) / ( exp(z_s,i . z_t,i / tau) + sum_{k != k(i)} exp(z_s,i . M_t[k] / tau) ) )</c></para>
/// <para>and symmetrically <c>l_t(i)</c> with the teacher embedding as anchor against <c>M_s</c>;
/// <c>L_CRD = mean_i ( l_s(i) + l_t(i) )</c>. The positive is the current pair (both networks saw this image now); the
/// negatives are every other bank slot. After the loss, the slots are updated without grad:
/// <c>M[k(i)] = normalise( m M[k(i)] + (1 - m) z_i )</c>, m = 0.5 (CRD's default).</para>
/// <para>Deviation from the paper, stated: CRD estimates its NCE objective with a binary classifier per pair and a
/// partition constant Z fixed on the first batch, drawing 16384 negatives from a bank of the whole dataset; here the
/// softmax (InfoNCE) form of the same one-positive-versus-K-negatives contrast is used, which needs no Z, and the bank is
/// <c>K = min(BankSize, dataset size)</c> slots (default 4096): with K &lt; dataset size several images share a slot.
/// Memory: the two banks take <c>2 x K x dim x 4</c> bytes (4 MiB at K = 4096, dim = 128), plus per step a copy of
/// each bank (the scores read it while the banks are updated in place) and an N x K similarity matrix per direction.</para>
/// </remarks>
public sealed class ContrastiveRepresentationLoss : nn.Module
{
    private readonly Linear _studentHead;
    private readonly Linear _teacherHead;
    private readonly Tensor _studentBank;
    private readonly Tensor _teacherBank;

    /// <param name="studentDim">D_s, size of the student's penultimate embedding.</param>
    /// <param name="teacherDim">D_t, size of the teacher's.</param>
    /// <param name="dim">Size of the shared embedding space (CRD: 128).</param>
    /// <param name="bankSize">K, slots per bank, &gt;= 2.</param>
    /// <param name="temperature">tau (CRD: 0.07).</param>
    /// <param name="momentum">m of the bank update, in [0, 1) (CRD: 0.5).</param>
    public ContrastiveRepresentationLoss(long studentDim, long teacherDim, long dim = 128, long bankSize = 4096, double temperature = 0.07, double momentum = 0.5)
        : base(nameof(ContrastiveRepresentationLoss))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bankSize, 2);
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive.");
        }
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The momentum must be in [0, 1).");
        }
        Temperature = temperature;
        Momentum = momentum;
        _studentHead = nn.Linear(studentDim, dim);
        _teacherHead = nn.Linear(teacherDim, dim);
        // Random unit rows, as CRD initialises its memory: the first epoch's negatives are noise until overwritten.
        _studentBank = nn.functional.normalize(randn(bankSize, dim), p: 2, dim: 1);
        _teacherBank = nn.functional.normalize(randn(bankSize, dim), p: 2, dim: 1);
        register_module("student_head", _studentHead);
        register_module("teacher_head", _teacherHead);
        register_buffer("student_bank", _studentBank);
        register_buffer("teacher_bank", _teacherBank);
    }

    /// <summary>tau.</summary>
    public double Temperature { get; }

    /// <summary>m of the bank update.</summary>
    public double Momentum { get; }

    /// <summary>K, slots per bank.</summary>
    public long BankSize => _studentBank.shape[0];

    /// <summary>Bytes of both banks: 2 x K x dim x 4.</summary>
    public long BankBytes => 2 * _studentBank.numel() * 4;

    /// <summary>g_s, the student's embedding head (trained).</summary>
    public Linear StudentHead => _studentHead;

    /// <summary>g_t, the teacher's embedding head (trained).</summary>
    public Linear TeacherHead => _teacherHead;

    /// <summary>The student-side memory bank (K, dim); read-only use.</summary>
    public Tensor StudentBank => _studentBank;

    /// <summary>The teacher-side memory bank (K, dim); read-only use.</summary>
    public Tensor TeacherBank => _teacherBank;

    /// <summary>
    /// L_CRD for penultimate embeddings (N, D_s) and (N, D_t) of samples with ids <paramref name="sampleIds"/> (N, int64,
    /// stable across epochs), then the momentum update of their bank slots.
    /// </summary>
    public Tensor Compute(Tensor student, Tensor teacher, Tensor sampleIds)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(sampleIds);
        if (student.dim() != 2 || teacher.dim() != 2 || sampleIds.dim() != 1 || student.shape[0] != teacher.shape[0] || sampleIds.shape[0] != student.shape[0])
        {
            throw new ArgumentException(
                $"CRD needs (N, D) embeddings and (N) ids; got ({string.Join(", ", student.shape)}), ({string.Join(", ", teacher.shape)}), ({string.Join(", ", sampleIds.shape)}).");
        }
        var zs = nn.functional.normalize(_studentHead.call(student), p: 2, dim: 1);
        var zt = nn.functional.normalize(_teacherHead.call(teacher.detach()), p: 2, dim: 1);
        var slots = HeldScalars.Remainder(sampleIds, BankSize);
        // The scores read copies of the banks: autograd keeps the bank operand of the product for backward, and the
        // in-place slot update below would otherwise invalidate it before backward runs.
        var loss = HeldScalars.Add(InfoNce(zs, zt, _teacherBank.clone(), slots, Temperature), InfoNce(zt, zs, _studentBank.clone(), slots, Temperature));
        using (no_grad())
        {
            Update(_studentBank, slots, zs.detach(), Momentum);
            Update(_teacherBank, slots, zt.detach(), Momentum);
        }
        return loss;
    }

    /// <summary>
    /// mean_i -log softmax over [anchor_i . positive_i, anchor_i . bank[k] for k != slot_i] / tau at the positive.
    /// </summary>
    internal static Tensor InfoNce(Tensor anchor, Tensor positive, Tensor bank, Tensor slots, double temperature)
    {
        var positiveScore = (anchor * positive).sum(1, keepdim: true);
        var negativeScores = anchor.matmul(bank.t());
        // The anchor's own slot holds (an average of) its own past positive: not a negative.
        var own = zeros_like(negativeScores, dtype: ScalarType.Bool).scatter(1, slots.unsqueeze(1), ones(slots.shape[0], 1, dtype: ScalarType.Bool, device: slots.device));
        var scores = HeldScalars.Div(cat([positiveScore, HeldScalars.MaskedFill(negativeScores, own, double.NegativeInfinity)], 1), temperature);
        return -scores.log_softmax(1).select(1, 0).mean();
    }

    private static void Update(Tensor bank, Tensor slots, Tensor embeddings, double momentum)
    {
        // Several samples of one batch may share a slot (K < dataset size): the last write wins, as in index_copy_.
        var updated = nn.functional.normalize(HeldScalars.Add(HeldScalars.Mul(bank.index_select(0, slots), momentum), HeldScalars.Mul(embeddings, 1 - momentum)), p: 2, dim: 1);
        bank.index_copy_(0, slots, updated);
    }
}
