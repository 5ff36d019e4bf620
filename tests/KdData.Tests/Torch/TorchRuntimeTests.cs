using KdData.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Tests.Torch;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Conv2d_KnownKernel_MatchesHandComputedResult()
    {
        using var scope = NewDisposeScope();
        // 1x1x3x3 input 1..9, 2x2 kernel [[1,0],[0,-1]]: each output is x[i,j] - x[i+1,j+1] = -4.
        var input = arange(1, 10, dtype: float32).reshape(1, 1, 3, 3);
        var weight = tensor(new float[] { 1, 0, 0, -1 }).reshape(1, 1, 2, 2);
        var output = nn.functional.conv2d(input, weight);

        Assert.Equal(new long[] { 1, 1, 2, 2 }, output.shape);
        Assert.All(output.data<float>().ToArray(), v => Assert.Equal(-4f, v));
    }

    [Fact]
    public void Conv2dModule_Backward_ProducesGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var conv = nn.Conv2d(3, 4, 3, padding: 1);
        var x = randn(2, 3, 8, 8);
        var loss = conv.forward(x).pow(2).mean();
        loss.backward();

        var grad = conv.weight!.grad;
        Assert.NotNull(grad);
        Assert.True(grad.abs().sum().item<float>() > 0f);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("auto")]
    public void Resolve_CpuOrAutoWithoutGpu_ReturnsUsableDevice(string name)
    {
        var device = TorchDeviceSelector.Resolve(name);
        var expected = name == "auto" && cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU;
        Assert.Equal(expected, device.type);
        using var t = ones(2, device: device);
        Assert.Equal(2f, t.sum().item<float>());
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Resolve_UnknownName_ThrowsNamingTheSetting(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TorchDeviceSelector.Resolve(name));
        Assert.Contains("Torch:Device", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_CudaWithoutGpu_ThrowsClearError()
    {
        if (cuda.is_available())
        {
            return; // the CUDA build on a GPU machine: nothing to refuse
        }

        var error = Assert.Throws<InvalidOperationException>(() => TorchDeviceSelector.Resolve("cuda"));
        Assert.Contains("CUDA is not available", error.Message, StringComparison.Ordinal);
    }
}
