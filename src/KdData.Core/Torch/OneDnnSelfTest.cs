using static TorchSharp.torch;

namespace KdData.Torch;

/// <summary>
/// Runs a model once with LibTorch's oneDNN kernels and once with ATen's own, on the same random batch, and compares
/// the outputs and (for a model about to be trained) the gradients of every parameter.
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
    /// <param name="gradients">Also compare the parameters' gradients (a model about to be trained).</param>
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
        try
        {
            model.eval();
            foreach (var batch in sizes)
            {
                var shape = new[] { (long)batch }.Concat(sampleShape).ToArray();
                var input = RandomValues(random, shape.Aggregate(1L, (a, b) => a * b));
                var aten = Run(model, input, shape, gradients, oneDnn: false, device, random, direction: null);
                var onednn = Run(model, input, shape, gradients, oneDnn: true, device, random, aten.Direction);
                Compare(aten.Output, onednn.Output, $"output at batch {batch}", ref worst, ref where);
                foreach (var (parameter, values) in aten.Gradients)
                {
                    Compare(values, onednn.Gradients[parameter], $"gradient of {parameter} at batch {batch}", ref worst, ref where);
                }
            }
        }
        finally
        {
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

    private static (float[] Output, float[] Direction, Dictionary<string, float[]> Gradients) Run(nn.Module<Tensor, Tensor> model,
        float[] input, long[] shape, bool gradients, bool oneDnn, Device? device, Random random, float[]? direction)
    {
        TorchRuntime.SetOneDnn(oneDnn);
        using var scope = NewDisposeScope();
        model.zero_grad();
        var x = tensor(input, shape, device: device);
        var grads = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (!gradients)
        {
            using (no_grad())
            {
                var y = model.call(x);
                return (Values(y), direction ?? [], grads);
            }
        }

        var output = model.call(x);
        var values = Values(output);
        direction ??= RandomValues(random, values.LongLength);
        // A random direction weighs every output, so every gradient path is exercised.
        var loss = output.mul(tensor(direction, output.shape, device: device)).sum();
        loss.backward();
        foreach (var (parameterName, parameter) in model.named_parameters())
        {
            if (parameter.grad is { } grad)
            {
                grads[parameterName] = Values(grad);
            }
        }
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
