using System.ComponentModel.DataAnnotations;
using KdData.Distillation;
using Microsoft.Extensions.Configuration;

namespace KdData.Tests.Distillation;

public sealed class ShardSelectionOptionsTests
{
    [Fact]
    public void Bind_Section_ReadsLocationsThresholdsAndCaps()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Trainer:Distill:Shards:Locations:0"] = "file:a/",
            ["Trainer:Distill:Shards:Locations:1"] = "az://labels/teacher=0123456789abcdef/",
            ["Trainer:Distill:Shards:IncludeRejected"] = "true",
            ["Trainer:Distill:Shards:MinConfidence"] = "0.6",
            ["Trainer:Distill:Shards:ClassThresholds:T-shirt/top"] = "0.8",
            ["Trainer:Distill:Shards:ClassCap"] = "balance",
            ["Trainer:Distill:Shards:ClassCaps:3"] = "100",
        }).Build();

        var options = configuration.GetSection(ShardSelectionOptions.SectionName).Get<ShardSelectionOptions>()!;

        Assert.Equal(["file:a/", "az://labels/teacher=0123456789abcdef/"], options.EffectiveLocations);
        Assert.True(options.IncludeRejected);
        Assert.Equal(0.6, options.MinConfidence);
        Assert.Equal(0.8, options.ClassThresholds["T-shirt/top"]);
        Assert.Equal(("balance", 100), (options.ClassCap, options.ClassCaps["3"]));
        Assert.True(IsValid(options));
    }

    [Fact]
    public void EffectiveLocations_NoneConfigured_IsTheLabelersDefaultOutput()
    {
        var options = new ConfigurationBuilder().Build().GetSection(ShardSelectionOptions.SectionName).Get<ShardSelectionOptions>() ?? new ShardSelectionOptions();

        Assert.Equal(["file:out/labels/"], options.EffectiveLocations);
        Assert.Equal(("none", false, 0.0), (options.ClassCap, options.IncludeRejected, options.MinConfidence));
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("balance", true)]
    [InlineData("120", true)]
    [InlineData("-3", false)]
    [InlineData("half", false)]
    public void Validate_ClassCap_AcceptsNoneBalanceOrANumber(string classCap, bool valid)
    {
        Assert.Equal(valid, IsValid(new ShardSelectionOptions { ClassCap = classCap }));
    }

    [Fact]
    public void Validate_ThresholdAboveOneOrNegativeCap_IsRejected()
    {
        Assert.False(IsValid(new ShardSelectionOptions { ClassThresholds = { ["c0"] = 1.5 } }));
        Assert.False(IsValid(new ShardSelectionOptions { ClassCaps = { ["c0"] = -1 } }));
        Assert.False(IsValid(new ShardSelectionOptions { MinConfidence = 2 }));
    }

    private static bool IsValid(ShardSelectionOptions options) =>
        Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true);
}
