using KdData.Datasets;
using KdData.Export;
using KdData.Models;
using KdData.Tests.Fixtures;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Export;

/// <summary>Real test images from the committed Fashion-MNIST sample, and helpers shared by the export tests.</summary>
internal static class ExportSamples
{
    public const int Channels = 1;
    public const int Size = 28;

    private static readonly Lazy<Task<(float[] Pixels, long[] Labels)>> Images = new(LoadAsync);

    /// <summary>The first 8 test-split images of the sample, preprocessed as the sample teacher expects (28 px, normalised).</summary>
    public static Task<(float[] Pixels, long[] Labels)> TestImagesAsync() => Images.Value;

    /// <summary>
    /// A zoo model in eval mode with every BatchNorm given non-trivial statistics and affine parameters, so that
    /// folding them into the convolutions is actually exercised (a fresh BN is the identity).
    /// </summary>
    public static nn.Module<Tensor, Tensor> CreateWithRandomNorms(ModelSpec spec, int seed = 3)
    {
        manual_seed(seed);
        var model = ModelZoo.Create(spec);
        using (no_grad())
        {
            foreach (var bn in model.modules().OfType<TorchSharp.Modules.BatchNorm2d>())
            {
                var channels = bn.running_mean!.shape[0];
                bn.running_mean!.copy_(randn(channels) * 0.3);
                bn.running_var!.copy_(rand(channels) + 0.5);
                bn.weight!.copy_(rand(channels) + 0.5);
                bn.bias!.copy_(randn(channels) * 0.2);
            }
        }
        model.eval();
        return model;
    }

    public static OnnxExportOptions OptionsFor(ModelSpec spec) => new()
    {
        Channels = spec.InChannels,
        Height = Size,
        Width = Size,
        NumClasses = spec.NumClasses,
    };

    public static float[] TorchLogits(nn.Module<Tensor, Tensor> model, float[] pixels, int count)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var input = tensor(pixels.AsSpan(0, count * Channels * Size * Size).ToArray(), [count, Channels, Size, Size]);
        return model.call(input).data<float>().ToArray();
    }

    public static double MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
    }

    private static async Task<(float[] Pixels, long[] Labels)> LoadAsync()
    {
        var store = TestStores.Factory().Open(Distillation.SampleDistillation.DatasetFolder + "/");
        var manifest = await DatasetManifest.ReadAsync(await store.ReadAllBytesAsync(DatasetLayout.ManifestKey), "manifest");
        var rows = manifest.Where(r => r.Split == DatasetSplits.Test).Take(8).ToList();
        var data = new StoreTrainingData(new ImageByteCache(store, null), rows, Distillation.SampleDistillation.ImageOptions,
            new TrainingDataOptions(), batchSize: 8, training: false, seed: 0);
        var loaded = await InMemoryTrainingData.LoadAsync(data, 8);
        return (loaded.Pixels.ToArray(), loaded.Labels.ToArray());
    }
}
