using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>
/// How a batch's images were mixed (MixUp / CutMix, see <c>Training.BatchMix</c>): row i shows <see cref="Lambda"/>
/// of its own sample and <c>1 - Lambda</c> of sample <see cref="Partner"/>[i], so its targets are mixed the same way:
/// the hard target is <c>Lambda * onehot(y_i) + (1 - Lambda) * onehot(y_partner)</c> (soft-label CE, which by
/// linearity is <c>Lambda * CE(y_i) + (1 - Lambda) * CE(y_partner)</c>), and, when the teacher rows belong to the
/// unmixed samples (<see cref="ObjectiveInputs.MixTeacherTargets"/>), the teacher target is
/// <c>Lambda * softmax(t_i / T) + (1 - Lambda) * softmax(t_partner / T)</c>.
/// </summary>
/// <param name="Partner">(N) int64 on the training device: the partner row of each row.</param>
/// <param name="Lambda">Weight of each row's own sample, in [0, 1].</param>
public sealed record ObjectiveMix(Tensor Partner, double Lambda);
