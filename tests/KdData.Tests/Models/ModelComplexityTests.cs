using KdData.Models;

namespace KdData.Tests.Models;

public sealed class ModelComplexityTests
{
    [Fact]
    public void Macs_ConvNet_EqualsHandCountedConvolutionsAndLinear()
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 16, Depth = 3, NumClasses = 10, InChannels = 1 });

        // 28x28 -> conv 1->16 at 28x28, pool, conv 16->32 at 14x14, pool, conv 32->64 at 7x7, pool, fc 64->10.
        const long expected = (16L * 28 * 28 * 1 * 9) + (32L * 14 * 14 * 16 * 9) + (64L * 7 * 7 * 32 * 9) + (10L * 64);
        Assert.Equal(expected, ModelComplexity.Macs(model, 1, 28, 28));
        // Hooks are removed: a second count is not doubled.
        Assert.Equal(expected, ModelComplexity.Macs(model, 1, 28, 28));
    }

    [Fact]
    public void Parameters_ConvNet_EqualsHandCount()
    {
        using var model = ModelZoo.Create(new ModelSpec { Name = "convnet", Width = 16, Depth = 3, NumClasses = 10, InChannels = 1 });

        // Convolutions without bias, BatchNorm scale + shift per channel, linear with bias.
        const long expected = (16L * 9) + (32L * 16 * 9) + (64L * 32 * 9) + (2L * (16 + 32 + 64)) + (64L * 10) + 10;
        Assert.Equal(expected, ModelComplexity.Parameters(model));
    }
}
