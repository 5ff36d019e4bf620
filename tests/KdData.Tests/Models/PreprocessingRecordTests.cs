using KdData.Models;

namespace KdData.Tests.Models;

public sealed class PreprocessingRecordTests
{
    private static PreprocessingRecord Fmnist() => new() { Width = 28, Height = 28, Channels = 1, Mean = [0.286f], Std = [0.353f] };

    [Fact]
    public void SameInput_EqualValuesInOtherLists_True()
    {
        // Two records read from two files hold two list instances: the generated Equals says they differ.
        Assert.NotEqual(Fmnist(), Fmnist());
        Assert.True(Fmnist().SameInput(Fmnist()));
    }

    [Theory]
    [InlineData("width")]
    [InlineData("channels")]
    [InlineData("mean")]
    [InlineData("std")]
    public void SameInput_OneMemberDiffers_False(string member)
    {
        var other = member switch
        {
            "width" => Fmnist() with { Width = 32 },
            "channels" => Fmnist() with { Channels = 3 },
            "mean" => Fmnist() with { Mean = [0.5f] },
            _ => Fmnist() with { Std = [0.353f, 0.353f] },
        };

        Assert.False(Fmnist().SameInput(other));
        Assert.False(Fmnist().SameInput(null));
    }

    [Fact]
    public void Describe_Record_NamesSizeChannelsMeanAndStd() =>
        Assert.Equal("28x28, 1 channel(s), mean [0.286], std [0.353]", Fmnist().Describe());
}
