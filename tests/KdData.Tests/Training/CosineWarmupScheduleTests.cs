using KdData.Training;

namespace KdData.Tests.Training;

public sealed class CosineWarmupScheduleTests
{
    // base 0.1, min 0.001, 10 warm-up steps, 110 steps in all: the cosine runs from step 9 to step 109 (100 steps).
    private readonly CosineWarmupSchedule _schedule = new(0.1, 0.001, 10, 110);

    [Theory]
    [InlineData(0, 0.01)]   // first step: base * 1/10
    [InlineData(4, 0.05)]   // mid warm-up: base * 5/10
    [InlineData(9, 0.1)]    // end of warm-up: base
    [InlineData(59, 0.0505)] // half-way through the cosine: (0.1 + 0.001) / 2
    [InlineData(109, 0.001)] // last step: min
    [InlineData(500, 0.001)] // past the end: stays at min
    public void At_KeyPoints_MatchHandComputedValues(long step, double expected)
    {
        Assert.Equal(expected, _schedule.At(step), 12);
    }

    [Fact]
    public void At_QuarterOfCosine_MatchesHandComputedValue()
    {
        // progress 0.25: min + (base - min) * (1 + cos(pi/4)) / 2 = 0.001 + 0.099 * 0.853553390593 = 0.085501785669
        Assert.Equal(0.085501785669, _schedule.At(34), 10);
    }

    [Fact]
    public void At_CosinePart_NeverIncreases()
    {
        for (var step = 10L; step < 120; step++)
        {
            Assert.True(_schedule.At(step) <= _schedule.At(step - 1), $"step {step} rose above step {step - 1}");
        }
    }

    [Fact]
    public void At_NoWarmup_StartsAtBaseAndEndsAtMin()
    {
        var schedule = new CosineWarmupSchedule(0.2, 0.0, 0, 5);

        Assert.Equal(0.2, schedule.At(0), 12);
        Assert.Equal(0.1, schedule.At(2), 12); // half-way of 4 cosine steps
        Assert.Equal(0.0, schedule.At(4), 12);
    }

    [Fact]
    public void Constructor_MinAboveBase_Throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new CosineWarmupSchedule(0.01, 0.1, 0, 10));
        Assert.Equal("minLearningRate", error.ParamName);
    }
}
