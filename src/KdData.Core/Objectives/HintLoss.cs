using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// Hint loss of FitNets: Romero, Ballas, Kahou, Chassang, Gatta and Bengio 2015, "FitNets: Hints for Thin Deep Nets"
/// (ICLR 2015, arXiv:1412.6550). A student layer's output (the guided layer) is regressed onto a teacher layer's
/// output (the hint) through a trained regressor.
/// </summary>
/// <remarks>
/// <para>With student features <c>F_s</c> (N, C_s, H_s, W_s), teacher features <c>F_t</c> (N, C_t, H_t, W_t) and the
/// adapter <c>r</c>, a 1x1 convolution C_s -> C_t with bias (the paper's convolutional regressor with a 1x1 kernel):</para>
/// <para><c>L_hint = mean_{n,c,h,w} ( r(F_s) - F_t )^2</c></para>
/// <para>(the paper writes <c>1/2 ||F_t - r(F_s)||^2</c>; the mean instead of the half sum keeps the value independent of
/// the layer's size, so one weight suits any layer pair). When the spatial sizes differ, the larger map is reduced to the
/// smaller one's size by adaptive average pooling (each cell becomes the mean of the cells it covers) before the
/// difference; the teacher side is never trained (it comes from the frozen teacher under no_grad).</para>
/// <para>The adapter is trained with the student (its parameters join the optimizer) and saved with the checkpoint.</para>
/// </remarks>
public sealed class HintLoss : nn.Module
{
    private readonly Conv2d _adapter;

    /// <param name="studentChannels">C_s, channels of the guided student layer.</param>
    /// <param name="teacherChannels">C_t, channels of the teacher's hint layer.</param>
    public HintLoss(long studentChannels, long teacherChannels) : base(nameof(HintLoss))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(studentChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(teacherChannels, 1);
        _adapter = nn.Conv2d(studentChannels, teacherChannels, kernel_size: 1, bias: true);
        register_module("adapter", _adapter);
    }

    /// <summary>The 1x1 convolution C_s -> C_t (trained).</summary>
    public Conv2d Adapter => _adapter;

    /// <summary>L_hint for one batch (a scalar with grad through the student features and the adapter).</summary>
    /// <exception cref="ArgumentException">Either input is not (N, C, H, W), or the batch sizes differ.</exception>
    public Tensor Compute(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        if (student.dim() != 4 || teacher.dim() != 4 || student.shape[0] != teacher.shape[0])
        {
            throw new ArgumentException(
                $"Hint features must both be (N, C, H, W) with the same N; got student ({string.Join(", ", student.shape)}) and teacher ({string.Join(", ", teacher.shape)}).");
        }
        var (s, t) = AlignSpatially(_adapter.call(student), teacher.detach());
        return HeldScalars.Pow(s - t, 2).mean();
    }

    /// <summary>
    /// The two maps at the same spatial size: the larger (per dimension) is adaptive-average-pooled to the smaller.
    /// </summary>
    internal static (Tensor A, Tensor B) AlignSpatially(Tensor a, Tensor b)
    {
        var height = Math.Min(a.shape[2], b.shape[2]);
        var width = Math.Min(a.shape[3], b.shape[3]);
        var alignedA = a.shape[2] == height && a.shape[3] == width ? a : nn.functional.adaptive_avg_pool2d(a, [height, width]);
        var alignedB = b.shape[2] == height && b.shape[3] == width ? b : nn.functional.adaptive_avg_pool2d(b, [height, width]);
        return (alignedA, alignedB);
    }
}
