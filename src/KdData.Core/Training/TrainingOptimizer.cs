using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// The optimizer <see cref="TrainingLoop"/> trains with, as <see cref="TrainingLoopOptions"/> configure it: AdamW or
/// Nesterov SGD (<see cref="HeldScalarOptimizers"/>' versions), with weight decay only on the weights that multiply.
/// Its own type so that which parameters are decayed is stated in one place; the state file a checkpoint keeps is
/// this optimizer's, so a change here is a change of what a resume can load.
/// </summary>
internal static class TrainingOptimizer
{
    /// <summary>
    /// An optimizer over the trainable parameters of <paramref name="model"/> and of <paramref name="extra"/> (the
    /// representation terms' trained parts, hint adapters and CRD heads, optimised with the student), at the
    /// options' peak learning rate (the loop sets each step's rate).
    /// </summary>
    public static OptimizerHelper Create(TrainingLoopOptions options, nn.Module model, nn.Module? extra)
    {
        var lr = options.EffectiveLearningRate;
        // Weight decay only on weights that multiply (conv and linear kernels); biases and normalisation scales and
        // shifts (1-d tensors) are not decayed: shrinking them towards 0 regularises nothing useful and hurts BN nets.
        // TorchSharp's optimizers with a step that holds its Scalars (same state and state-file format).
        var parameters = model.parameters().Concat(extra?.parameters() ?? []).Where(p => p.requires_grad).ToList();
        var decayed = parameters.Where(p => p.dim() > 1).ToList();
        var plain = parameters.Where(p => p.dim() <= 1).ToList();
        if (string.Equals(options.Optimizer, TrainingLoopOptions.Sgd, StringComparison.Ordinal))
        {
            return new HeldScalarOptimizers.SGD(
                [
                    new SGD.ParamGroup(decayed, new SGD.Options { weight_decay = options.WeightDecay }),
                    new SGD.ParamGroup(plain, new SGD.Options { weight_decay = 0 }),
                ],
                lr, momentum: options.Momentum, nesterov: options.Momentum > 0);
        }
        return new HeldScalarOptimizers.AdamW(
            [
                new AdamW.ParamGroup(decayed, new AdamW.Options { weight_decay = options.WeightDecay }),
                new AdamW.ParamGroup(plain, new AdamW.Options { weight_decay = 0 }),
            ],
            lr);
    }
}
