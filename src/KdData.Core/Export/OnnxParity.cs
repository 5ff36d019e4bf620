using KdData.Evaluation;
using TorchSharp;

namespace KdData.Export;

/// <summary>
/// Measures how closely an exported ONNX model reproduces the TorchSharp model it was made from, on the first images
/// of a set: the largest absolute logit difference (what the export is held to) and the top-1 agreement.
/// </summary>
public static class OnnxParity
{
    /// <summary>Images compared at most: enough to catch a wrong layer, few enough to cost nothing.</summary>
    public const int DefaultImages = 64;

    /// <param name="model">The TorchSharp model, in eval mode.</param>
    /// <param name="session">The exported model's session.</param>
    /// <param name="images">The images; the first <paramref name="maxImages"/> are compared.</param>
    /// <param name="source">Where the images came from, for the report.</param>
    /// <param name="tolerance">The tolerance the export is held to, recorded beside the difference.</param>
    /// <param name="maxImages">Images compared at most.</param>
    public static ExportParity Measure(torch.nn.Module<torch.Tensor, torch.Tensor> model, OnnxModelSession session, EvaluationImages images,
        string source, double tolerance, int maxImages = DefaultImages)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(images);
        var count = Math.Min(maxImages, images.Count);
        var pixels = images.Batch(count);
        float[] expected;
        using (torch.NewDisposeScope())
        using (torch.inference_mode())
        {
            expected = model.call(torch.tensor(pixels, [count, images.Channels, images.Height, images.Width])).data<float>().ToArray();
        }
        var actual = session.Run(pixels, count);
        var max = expected.Zip(actual, (a, b) => Math.Abs((double)a - b)).Max();
        var k = images.NumClasses;
        var agree = Enumerable.Range(0, count).Count(i => LogitMath.ArgMax(expected.AsSpan(i * k, k)) == LogitMath.ArgMax(actual.AsSpan(i * k, k)));
        return new ExportParity { Images = count, Source = source, MaxAbsDifference = max, Tolerance = tolerance, Top1Agreement = (double)agree / count };
    }
}
