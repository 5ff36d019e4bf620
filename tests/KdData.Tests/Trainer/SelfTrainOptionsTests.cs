using KdData.Hosting;
using KdData.Trainer;

namespace KdData.Tests.Trainer;

public sealed class SelfTrainOptionsTests
{
    [Fact]
    public void StudentWidths_ShortList_RepeatsTheLastWidthPastIt()
    {
        var options = new SelfTrainOptions { Rounds = 4, Widths = "64, 96" };

        Assert.Equal([64, 96, 96, 96], options.StudentWidths());
    }

    [Fact]
    public void StudentWidths_LongerListThanRounds_TakesTheFirstOnes()
    {
        var options = new SelfTrainOptions { Rounds = 2, Widths = "64,96,128" };

        Assert.Equal([64, 96], options.StudentWidths());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(48)]
    public void StudentWidths_NoList_GivesWidthToEveryRound(int? width)
    {
        var options = new SelfTrainOptions { Rounds = 3, Width = width };

        Assert.Equal([width, width, width], options.StudentWidths());
    }

    [Theory]
    [InlineData("64,x")]
    [InlineData("64,,96")]
    [InlineData("0")]
    [InlineData("-8")]
    [InlineData("64.5")]
    public void StudentWidths_EntryNotAPositiveWholeNumber_ThrowsNamingTheKey(string widths)
    {
        var options = new SelfTrainOptions { Rounds = 3, Widths = widths };

        var error = Assert.Throws<InvalidInputException>(() => options.StudentWidths());

        Assert.Contains("Trainer:SelfTrain:Widths", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{widths}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StudentWidths_WidthAndWidths_ThrowsNamingBothKeys()
    {
        var options = new SelfTrainOptions { Rounds = 3, Width = 64, Widths = "64,96" };

        var error = Assert.Throws<InvalidInputException>(() => options.StudentWidths());

        Assert.Contains("Trainer:SelfTrain:Widths", error.Message, StringComparison.Ordinal);
        Assert.Contains("Trainer:SelfTrain:Width (--width)", error.Message, StringComparison.Ordinal);
    }
}
