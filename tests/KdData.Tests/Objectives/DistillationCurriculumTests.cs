using System.ComponentModel.DataAnnotations;
using KdData.Objectives;

namespace KdData.Tests.Objectives;

public sealed class DistillationCurriculumTests
{
    [Theory]
    // T 4 -> 2 and alpha 0.9 -> 0.5 over 5 epochs: progress 0, 1/4, 1/2, 3/4, 1 in equal steps of 0.5 and 0.1.
    [InlineData(1, 4.0, 0.9)]
    [InlineData(2, 3.5, 0.8)]
    [InlineData(3, 3.0, 0.7)]
    [InlineData(4, 2.5, 0.6)]
    [InlineData(5, 2.0, 0.5)]
    public void At_Linear_MatchesHandComputedValues(int epoch, double temperature, double alpha)
    {
        var schedule = Curriculum("linear").At(epoch, 5);

        Assert.Equal(temperature, schedule.Temperature, 12);
        Assert.Equal(alpha, schedule.Alpha, 12);
    }

    [Theory]
    // (1 + cos(pi u)) / 2 at u = 0, 1/4, 1/2, 3/4, 1 is 1, 0.8535534, 0.5, 0.1464466, 0:
    // T = 2 + 2 f, alpha = 0.5 + 0.4 f.
    [InlineData(1, 4.0, 0.9)]
    [InlineData(2, 3.7071068, 0.8414214)]
    [InlineData(3, 3.0, 0.7)]
    [InlineData(4, 2.2928932, 0.5585786)]
    [InlineData(5, 2.0, 0.5)]
    public void At_Cosine_MatchesHandComputedValues(int epoch, double temperature, double alpha)
    {
        var schedule = Curriculum("cosine").At(epoch, 5);

        Assert.Equal(temperature, schedule.Temperature, 7);
        Assert.Equal(alpha, schedule.Alpha, 7);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    public void At_Constant_IsTheStartValuesEveryEpoch(int epoch)
    {
        Assert.Equal(new ObjectiveSchedule(4.0, 0.9), Curriculum("constant").At(epoch, 5));
    }

    [Fact]
    public void At_Defaults_AreCosineFromFourAndPointNineToTwoAndPointFive()
    {
        var curriculum = new DistillationCurriculum(new DistillationCurriculumOptions());

        Assert.Equal(new ObjectiveSchedule(4.0, 0.9), curriculum.At(1, 30));
        Assert.Equal(new ObjectiveSchedule(2.0, 0.5), curriculum.At(30, 30));
        // Cosine: half-way (epoch 15.5) is the mean; epoch 8 of 30 (u = 7/29) is still above the linear value.
        Assert.True(curriculum.At(8, 30).Temperature > 4.0 - (2.0 * 7 / 29));
    }

    [Fact]
    public void At_SingleEpoch_IsTheStartValues()
    {
        Assert.Equal(new ObjectiveSchedule(4.0, 0.9), Curriculum("cosine").At(1, 1));
    }

    [Theory]
    [InlineData(0, 5)]
    [InlineData(6, 5)]
    [InlineData(1, 0)]
    public void At_EpochOutsideRun_Throws(int epoch, int epochs)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Curriculum("linear").At(epoch, epochs));
    }

    [Theory]
    [InlineData(0.0, 2.0, 0.9, 0.5, "cosine")]
    [InlineData(4.0, -1.0, 0.9, 0.5, "cosine")]
    [InlineData(4.0, 2.0, 1.5, 0.5, "cosine")]
    [InlineData(4.0, 2.0, 0.9, -0.1, "cosine")]
    [InlineData(4.0, 2.0, 0.9, 0.5, "step")]
    public void Constructor_InvalidOptions_Throws(double tStart, double tEnd, double alphaStart, double alphaEnd, string shape)
    {
        var options = new DistillationCurriculumOptions
        {
            TemperatureStart = tStart, TemperatureEnd = tEnd, AlphaStart = alphaStart, AlphaEnd = alphaEnd, Shape = shape,
        };

        Assert.Throws<ValidationException>(() => new DistillationCurriculum(options));
    }

    private static DistillationCurriculum Curriculum(string shape) => new(new DistillationCurriculumOptions
    {
        TemperatureStart = 4.0, TemperatureEnd = 2.0, AlphaStart = 0.9, AlphaEnd = 0.5, Shape = shape,
    });
}
