using KdData.Torch;
using static TorchSharp.torch;

namespace KdData.Tests.Torch;

/// <summary>
/// LibTorch's convolutions as the hosts configure them (<see cref="TorchRuntime"/>), against a direct sum. The shapes
/// are a pruned wide ResNet's: on an AMD Zen 5 machine oneDNN got exactly these wrong (errors above 1), ATen's
/// kernels get them right.
/// </summary>
public sealed class TorchRuntimeConvolutionTests
{
    [Fact]
    public void Configure_ByDefault_OneDnnOff()
    {
        TorchRuntime.Configure();

        Assert.Null(TorchRuntime.Problem);
        Assert.False(TorchRuntime.OneDnnEnabled);
    }

    [Theory]
    [InlineData(5, 18, 19, 28, 1)]
    [InlineData(5, 19, 34, 28, 2)]
    [InlineData(5, 34, 39, 14, 1)]
    [InlineData(5, 39, 80, 14, 2)]
    [InlineData(1, 18, 19, 28, 1)]
    [InlineData(8, 32, 64, 14, 1)]
    public void Conv2d_PrunedChannelCounts_MatchDirectSum(int batch, int inChannels, int outChannels, int size, int stride)
    {
        TorchRuntime.Configure();
        var random = new Random(batch * 1000 + inChannels);
        var x = new float[batch * inChannels * size * size];
        var w = new float[outChannels * inChannels * 9];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 2) - 1);
        }
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = (float)((random.NextDouble() * 2) - 1);
        }

        using var scope = NewDisposeScope();
        var y = nn.functional.conv2d(tensor(x, [batch, inChannels, size, size]), tensor(w, [outChannels, inChannels, 3, 3]), null,
            strides: [stride, stride], padding: [1, 1]).data<float>().ToArray();

        var outSize = ((size + 2 - 3) / stride) + 1;
        var worst = 0.0;
        for (var n = 0; n < batch; n++)
        for (var o = 0; o < outChannels; o++)
        for (var r = 0; r < outSize; r++)
        for (var c = 0; c < outSize; c++)
        {
            var sum = 0.0;
            for (var i = 0; i < inChannels; i++)
            for (var kr = 0; kr < 3; kr++)
            for (var kc = 0; kc < 3; kc++)
            {
                int row = (r * stride) + kr - 1, col = (c * stride) + kc - 1;
                if (row >= 0 && col >= 0 && row < size && col < size)
                {
                    sum += x[((((n * inChannels) + i) * size) + row) * size + col] * w[((((o * inChannels) + i) * 3) + kr) * 3 + kc];
                }
            }
            worst = Math.Max(worst, Math.Abs(sum - y[((((n * outChannels) + o) * outSize) + r) * outSize + c]));
        }
        // fp32 sums of at most 80 x 9 products of values in [-1, 1]: rounding stays far below 1e-3.
        Assert.True(worst < 1e-3, $"max |conv2d - direct sum| = {worst:E2}");
    }
}
