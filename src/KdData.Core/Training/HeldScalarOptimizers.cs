using KdData.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// TorchSharp's AdamW and SGD with their <c>step</c> rewritten to pass every number to libtorch as a held
/// <see cref="Scalar"/> (<see cref="HeldScalars"/> explains the crash this avoids). TorchSharp 0.107's own steps write
/// <c>param.mul_(1 - lr * wd)</c>, <c>exp_avg.mul_(beta1).add_(grad, alpha: 1 - beta1)</c>, <c>grad.add(param, alpha: wd)</c>
/// and so on: an implicit Scalar per call, several per parameter per step.
/// <para>
/// Everything else is inherited: parameter groups, learning rates, the per-parameter state objects (<c>step</c>,
/// <c>exp_avg</c>, <c>exp_avg_sq</c>; <c>momentum_buffer</c>) and <c>save_state_dict</c> / <c>load_state_dict</c>.
/// The classes keep the names <c>AdamW</c> and <c>SGD</c> because the state file starts with the optimizer's type name
/// (<c>GetType().Name</c>): files written before and after this class existed are the same format and load into
/// either. The arithmetic is TorchSharp's, operation by operation (tested against it step by step). AMSGrad and
/// <c>maximize</c> are not implemented (the training loop uses neither) and are refused.
/// </para>
/// </summary>
internal static class HeldScalarOptimizers
{
    /// <summary>AdamW (Loshchilov and Hutter 2019, decoupled weight decay), TorchSharp's update with held Scalars.</summary>
    public sealed class AdamW(IEnumerable<TorchSharp.Modules.AdamW.ParamGroup> groups, double lr)
        : TorchSharp.Modules.AdamW(groups, lr)
    {
        public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
        {
            base.add_param_group(param_group);
            var options = (Options)param_group.Options;
            Refuse(options.amsgrad is true || options.maximize is true, "AdamW with amsgrad or maximize");
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = group.Options;
            var (lr, beta1, beta2) = (options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value);
            using var decay = (1 - (lr * options.weight_decay!.Value)).ToScalar();
            using var keep1 = beta1.ToScalar();
            using var take1 = (1 - beta1).ToScalar();
            using var keep2 = beta2.ToScalar();
            using var take2 = (1 - beta2).ToScalar();
            using var eps = options.eps!.Value.ToScalar();
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null)
                {
                    continue;
                }
                var state = (State)_state[param.Handle];
                state.step += 1;
                param.mul_(decay);
                var biasCorrection1 = 1 - Math.Pow(beta1, state.step);
                var biasCorrection2 = 1 - Math.Pow(beta2, state.step);
                state.exp_avg.mul_(keep1).add_(grad, take1);
                state.exp_avg_sq.mul_(keep2).addcmul_(grad, grad, take2);
                using var root = Math.Sqrt(biasCorrection2).ToScalar();
                using var stepSize = (-(lr / biasCorrection1)).ToScalar();
                var denominator = state.exp_avg_sq.sqrt().div_(root).add_(eps, HeldScalars.One);
                param.addcdiv_(state.exp_avg, denominator, stepSize);
            }
        }, closure);
    }

    /// <summary>SGD with (Nesterov) momentum and L2 weight decay, TorchSharp's update with held Scalars.</summary>
    public sealed class SGD(IEnumerable<TorchSharp.Modules.SGD.ParamGroup> groups, double lr, double momentum, bool nesterov)
        : TorchSharp.Modules.SGD(groups, lr, momentum, nesterov: nesterov)
    {
        public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
        {
            base.add_param_group(param_group);
            Refuse(((Options)param_group.Options).maximize is true, "SGD with maximize");
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
        {
            var options = group.Options;
            var (weightDecay, factor) = (options.weight_decay!.Value, options.momentum!.Value);
            using var decay = weightDecay.ToScalar();
            using var keep = factor.ToScalar();
            using var take = (1 - options.dampening!.Value).ToScalar();
            using var rate = (-options.LearningRate!.Value).ToScalar();
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null)
                {
                    continue;
                }
                var state = (State)_state[param.Handle];
                if (weightDecay != 0)
                {
                    grad = grad.add(param, decay);
                }
                if (factor != 0)
                {
                    var buffer = state.momentum_buffer;
                    if (buffer is null)
                    {
                        buffer = grad.clone().detach().DetachFromDisposeScope();
                        state.momentum_buffer = buffer;
                    }
                    else
                    {
                        buffer.mul_(keep).add_(grad, take);
                    }
                    grad = options.nesterov is true ? grad.add(buffer, keep) : buffer;
                }
                param.add_(grad, rate);
            }
        }, closure);
    }

    private static void Refuse(bool unsupported, string what)
    {
        if (unsupported)
        {
            throw new NotSupportedException($"{what} is not implemented by {nameof(HeldScalarOptimizers)}.");
        }
    }
}
