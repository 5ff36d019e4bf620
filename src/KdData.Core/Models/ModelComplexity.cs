using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// Size and cost of a model for reports: parameters, and multiply-accumulates (MACs) of one forward pass of one
/// image, counted from the convolutions and linear layers actually run (forward hooks on a probe input), so it
/// holds for any architecture the zoo builds. Normalisation, activations and pooling are not counted (by
/// convention: they are a few percent of a conv net's cost).
/// </summary>
public static class ModelComplexity
{
    /// <summary>Trainable and frozen parameters.</summary>
    public static long Parameters(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.parameters().Sum(p => p.numel());
    }

    /// <summary>MACs of one forward pass of one <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/> image.</summary>
    public static long Macs(nn.Module<Tensor, Tensor> model, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(model);
        long macs = 0;
        var removers = new List<Action>();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    var convHook = conv.register_forward_hook((m, input, output) =>
                    {
                        var kernel = conv.weight!.shape; // (out, in / groups, kh, kw)
                        macs += output.numel() * kernel[1] * kernel[2] * kernel[3];
                        return output;
                    });
                    removers.Add(convHook.remove);
                    break;
                case Linear linear:
                    var linearHook = linear.register_forward_hook((m, input, output) =>
                    {
                        macs += output.numel() * linear.weight!.shape[1];
                        return output;
                    });
                    removers.Add(linearHook.remove);
                    break;
            }
        }

        var training = model.training;
        try
        {
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            model.call(zeros(1, channels, height, width, device: device));
        }
        finally
        {
            foreach (var remove in removers)
            {
                remove();
            }
            model.train(training);
        }
        return macs;
    }
}
