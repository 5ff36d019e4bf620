using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Torch;

/// <summary>
/// Runs a model once with LibTorch's oneDNN kernels and once with ATen's own, on the same random batch, and compares
/// the outputs; for a model about to be trained, also every convolution alone (output, input and weight gradients) on
/// the input shapes it saw.
/// <para>
/// Why: oneDNN trains the 94k convnet about twice as fast here, but on an AMD Zen 5 machine LibTorch 2.10's oneDNN
/// returned wrong convolutions for some channel counts (a pruned network's; errors above 1 where rounding gives
/// 1e-6), so it cannot simply be trusted (<see cref="TorchRuntime"/>). Which shapes go wrong depends on the CPU and
/// on the kernel oneDNN picks for it, so the check runs on the machine and model at hand, at several batch sizes
/// (oneDNN picks kernels by shape, batch size included), before the model's real work starts. It is a check of
/// those shapes, not a proof: a batch size not tried could still pick another kernel.
/// </para>
/// <para>
/// The model is left as it was: it runs in eval mode (no BatchNorm statistics are updated, no dropout), the input is
/// drawn from a private <see cref="Random"/> (the torch generator is not touched), and the gradients it made are
/// cleared. It flips the process-wide oneDNN switch while it runs and turns it off again, so no other model may run
/// in the process meanwhile.
/// </para>
/// </summary>
public static class OneDnnSelfTest
{
    /// <summary>
    /// Largest accepted difference, relative to the largest magnitude of the ATen result. fp32 kernels that sum in
    /// another order differ by about 1e-6 of it; the wrong convolutions seen were off by more than the result itself.
    /// </summary>
    public const double Tolerance = 1e-3;

    /// <summary>Compares oneDNN with ATen on <paramref name="model"/> for each of <paramref name="batchSizes"/>.</summary>
    /// <param name="name">The model's name, for messages.</param>
    /// <param name="model">The model; its weights, mode and gradients are left as they were.</param>
    /// <param name="sampleShape">One sample's shape, e.g. C, H, W.</param>
    /// <param name="batchSizes">Batch sizes to try (duplicates and values below 1 are ignored).</param>
    /// <param name="gradients">
    /// Also compare gradients (a model about to be trained): those of every convolution, run alone on the input
    /// shapes it saw in the model. Alone, because through max pooling and ReLU a difference of 1e-6 in a forward
    /// value can move a whole gradient to another position (a near-tie flips), which says nothing about the kernels.
    /// </param>
    /// <param name="device">Where the model is.</param>
    /// <exception cref="InvalidOperationException">LibTorch's switch cannot be called here (<see cref="TorchRuntime.Problem"/>).</exception>
    public static OneDnnCheck Check(string name, nn.Module<Tensor, Tensor> model, long[] sampleShape, IEnumerable<int> batchSizes,
        bool gradients, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        ArgumentNullException.ThrowIfNull(batchSizes);
        var sizes = batchSizes.Where(b => b > 0).Distinct().Order().ToArray();
        if (sizes.Length == 0)
        {
            throw new ArgumentException("At least one batch size above 0 is needed.", nameof(batchSizes));
        }
        var wasTraining = model.training;
        var wasOn = TorchRuntime.OneDnnEnabled;
        var worst = 0.0;
        var where = "no difference";
        var random = new Random(20261207);
        // Every convolution and the input shapes it saw, in the order first seen.
        var convolutions = new List<(string Name, nn.Module<Tensor, Tensor> Module, long[] Shape)>();
        var removers = new List<Action>();
        try
        {
            model.eval();
            foreach (var (moduleName, module) in model.named_modules())
            {
                if (module is Conv2d conv)
                {
                    var hook = conv.register_forward_hook((_, input, output) =>
                    {
                        if (!convolutions.Any(c => ReferenceEquals(c.Module, conv) && c.Shape.SequenceEqual(input.shape)))
                        {
                            convolutions.Add((moduleName, conv, input.shape));
                        }
                        return output;
                    });
                    removers.Add(hook.remove);
                }
            }
            foreach (var batch in sizes)
            {
                long[] shape = [batch, .. sampleShape];
                var input = RandomValues(random, shape.Aggregate(1L, (a, b) => a * b));
                var aten = Outputs(model, input, shape, oneDnn: false, device);
                var onednn = Outputs(model, input, shape, oneDnn: true, device);
                Compare(aten, onednn, $"output at batch {batch}", ref worst, ref where);
            }
            foreach (var remove in removers)
            {
                remove();
            }
            removers.Clear();
            if (gradients)
            {
                foreach (var (convName, conv, shape) in convolutions)
                {
                    var input = RandomValues(random, shape.Aggregate(1L, (a, b) => a * b));
                    var aten = ConvolutionResults(conv, input, shape, oneDnn: false, device, random, direction: null);
                    var onednn = ConvolutionResults(conv, input, shape, oneDnn: true, device, random, aten.Direction);
                    var at = $"[{string.Join(", ", shape)}]";
                    Compare(aten.Output, onednn.Output, $"{convName} output at input {at}", ref worst, ref where);
                    foreach (var (part, values) in aten.Gradients)
                    {
                        Compare(values, onednn.Gradients[part], $"gradient of {convName}{part} at input {at}", ref worst, ref where);
                    }
                }
            }
        }
        finally
        {
            foreach (var remove in removers)
            {
                remove();
            }
            TorchRuntime.SetOneDnn(wasOn);
            model.zero_grad();
            model.train(wasTraining);
        }
        return new OneDnnCheck
        {
            Model = name,
            Agrees = worst <= Tolerance,
            WorstRelativeError = worst,
            BatchSizes = sizes,
            Worst = where,
            Gradients = gradients,
        };
    }

    private static float[] Outputs(nn.Module<Tensor, Tensor> model, float[] input, long[] shape, bool oneDnn, Device? device)
    {
        TorchRuntime.SetOneDnn(oneDnn);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Values(model.call(tensor(input, shape, device: device)));
    }

    private static (float[] Output, float[] Direction, Dictionary<string, float[]> Gradients) ConvolutionResults(nn.Module<Tensor, Tensor> conv,
        float[] input, long[] shape, bool oneDnn, Device? device, Random random, float[]? direction)
    {
        TorchRuntime.SetOneDnn(oneDnn);
        using var scope = NewDisposeScope();
        conv.zero_grad();
        var x = tensor(input, shape, device: device).requires_grad_(true);
        var output = conv.call(x);
        var values = Values(output);
        direction ??= RandomValues(random, values.LongLength);
        // A random direction weighs every output, so every gradient path is exercised.
        output.mul(tensor(direction, output.shape, device: device)).sum().backward();
        var grads = new Dictionary<string, float[]>(StringComparer.Ordinal) { [" input"] = Values(x.grad!) };
        foreach (var (parameterName, parameter) in conv.named_parameters())
        {
            if (parameter.grad is { } grad)
            {
                grads["." + parameterName] = Values(grad);
            }
        }
        conv.zero_grad();
        return (values, direction, grads);
    }

    private static void Compare(float[] reference, float[] other, string what, ref double worst, ref string where)
    {
        var scale = 0.0;
        var difference = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(reference[i]));
            var d = Math.Abs((double)reference[i] - other[i]);
            // NaN in one result and not the other is a disagreement.
            difference = double.IsNaN(d) ? double.PositiveInfinity : Math.Max(difference, d);
        }
        var relative = scale > 0 ? difference / scale : difference;
        if (relative > worst)
        {
            worst = relative;
            where = what;
        }
    }

    private static float[] Values(Tensor tensor) => tensor.detach().cpu().contiguous().data<float>().ToArray();

    private static float[] RandomValues(Random random, long count)
    {
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }
        return values;
    }
}
