using static TorchSharp.torch;

namespace KdData.Objectives;

/// <summary>One step's loss and the parts that are logged (batch means, as plain numbers).</summary>
/// <param name="Loss">Scalar tensor to call backward on.</param>
/// <param name="CrossEntropy">Mean CE over the samples it applied to (NaN when none did).</param>
/// <param name="Distillation">Mean T^2-scaled KL over the samples it applied to (NaN when none did).</param>
public sealed record ObjectiveLoss(Tensor Loss, double CrossEntropy, double Distillation);
