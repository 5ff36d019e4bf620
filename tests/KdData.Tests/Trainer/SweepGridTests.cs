using KdData.Trainer;
using Microsoft.Extensions.Hosting;

namespace KdData.Tests.Trainer;

public sealed class SweepGridTests
{
    [Fact]
    public void Parse_TwoAxes_EveryCombinationLastAxisFastest()
    {
        var grid = SweepGrid.Parse(["Trainer:Objective:Curriculum:TemperatureStart=2, 4,6", "Trainer:Objective:Curriculum:AlphaStart=0.3,0.7"]);

        Assert.Equal(6, grid.Points.Count);
        Assert.Equal(["2", "4", "6"], grid.Axes[0].Values);
        var point = grid.Points[3];
        Assert.Equal("point-003", point.Name);
        Assert.Equal([1, 1], point.Coordinates);
        Assert.Equal("4", point.Settings["Trainer:Objective:Curriculum:TemperatureStart"]);
        Assert.Equal("0.7", point.Settings["Trainer:Objective:Curriculum:AlphaStart"]);
    }

    [Theory]
    [InlineData("Trainer:Objective:Name")]
    [InlineData("Trainer:Objective:Name=")]
    [InlineData("=kd,ce")]
    [InlineData("Trainer:Objective:Name=kd,,ce")]
    [InlineData("Trainer:Objective:Name=kd,kd")]
    public void Parse_BadEntry_ThrowsNamingTheGridEntry(string entry)
    {
        var e = Assert.Throws<FormatException>(() => SweepGrid.Parse([entry]));

        Assert.Contains("Trainer:Sweep:Grid:0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SameKeyTwice_Throws()
    {
        Assert.Throws<FormatException>(() => SweepGrid.Parse(["Trainer:Distill:Epochs=1,2", "trainer:distill:epochs=3"]));
    }

    [Theory]
    [InlineData("Trainer:Objective:Curriculum:TemperatureStart")]
    [InlineData("trainer:objective:alpha")]
    [InlineData("Trainer:Objective:Name")]
    [InlineData("Trainer:Distill:Epochs")]
    [InlineData("Trainer:Distill:Model:Width")]
    [InlineData("Trainer:Distill:Shards:Locations:0")]
    [InlineData("Trainer:Distill:Augment:MixUpAlpha")]
    [InlineData("Trainer:Distill:Mix:UnlabeledRatio")]
    [InlineData("Torch:Threads")]
    public void Check_DistillSetting_Accepted(string key)
    {
        // Alpha alone is not a setting: the curriculum's AlphaStart / AlphaEnd are.
        var problem = SweepSettings.Check(key);

        if (key.EndsWith(":alpha", StringComparison.Ordinal))
        {
            Assert.NotNull(problem);
        }
        else
        {
            Assert.Null(problem);
        }
    }

    [Theory]
    [InlineData("Trainer:Objective:Temperature")]
    [InlineData("Trainer:Distill:Output")]
    [InlineData("Labeler:Output")]
    [InlineData("Trainer:Distill:Model:Width:3")]
    public void Check_NotASweepableSetting_SaysWhy(string key)
    {
        var problem = SweepSettings.Check(key);

        Assert.NotNull(problem);
        Assert.Contains($"'{key}'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Sections_CoverEveryOptionsClassTheDistillStageBinds()
    {
        var builder = Host.CreateApplicationBuilder([]);

        builder.AddDistillJob();

        var bound = builder.Services
            .Where(d => d.ServiceType.IsGenericType && d.ServiceType.GetGenericTypeDefinition() == typeof(Microsoft.Extensions.Options.IConfigureOptions<>))
            .Select(d => d.ServiceType.GetGenericArguments()[0])
            .Where(t => t.Namespace?.StartsWith("KdData", StringComparison.Ordinal) == true) // not the host's own
            .Distinct()
            .ToList();
        Assert.NotEmpty(bound);
        Assert.All(bound, type => Assert.Contains(SweepSettings.Sections, s => s.Options == type));
    }

    [Fact]
    public void Cells_ThreeAxes_BestOverTheThirdAndNaNWhereNothingFinished()
    {
        var grid = SweepGrid.Parse(["A:a=1,2", "B:b=x,y", "C:c=p,q"]);
        SweepPointResult Result(int index, double accuracy) => new()
        {
            Index = index, Name = grid.Points[index].Name, Settings = grid.Points[index].Settings,
            BestAccuracy = accuracy, BestEpoch = 1, LastAccuracy = accuracy, Epochs = 1, Seconds = 1,
        };

        var cells = SweepSummary.Cells(grid, [Result(0, 0.5), Result(1, 0.7), Result(2, 0.6), Result(6, 0.9)]);

        Assert.Equal(0.7, cells[0, 0]); // points 0 and 1 differ only in C
        Assert.Equal(0.6, cells[0, 1]);
        Assert.True(double.IsNaN(cells[1, 0]));
        Assert.Equal(0.9, cells[1, 1]);
    }
}
