using System.Text.Json;
using KdData.Hosting;
using KdData.SoftTargets;

namespace KdData.Tests.SoftTargets;

public sealed class ShardFooterTests
{
    [Fact]
    public void ToMetadata_ThenParse_GivesBackWhatReadersUseAndWritesEveryKey()
    {
        var footer = new ShardFooter("0123456789abcdef", "ab12", "file:teacher.json", ["a", "b", "c"], 28, 1, [0.25f], [0.5f], "ShorterSideCenterCrop", 3, 2, "file:/data/pool/")
        {
            LabelerVersion = "1",
            ViewSeed = 7,
            ViewScaleMin = 0.35,
            Thresholds = (0.6, [0.6f, 0.2f, 0.6f], new Dictionary<string, int> { ["b"] = 5 }),
            Partition = (1, 4),
        };

        var metadata = footer.ToMetadata();
        var parsed = ShardFooter.Parse(metadata, "part.parquet");

        Assert.Equal(
            [ShardFooter.InputKey, ShardFooter.LabelerVersionKey, ShardFooter.PartitionKey, ShardFooter.PreprocessingKey, ShardFooter.TeacherKey, ShardFooter.TemperatureKey, ShardFooter.ThresholdsKey, ShardFooter.TopKKey],
            metadata.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((footer.TeacherId, footer.WeightsSha256, footer.TeacherSource, footer.Size, footer.Channels, footer.ResizeMode, footer.ViewsPerImage, footer.TopK, footer.Input),
            (parsed.TeacherId, parsed.WeightsSha256, parsed.TeacherSource, parsed.Size, parsed.Channels, parsed.ResizeMode, parsed.ViewsPerImage, parsed.TopK, parsed.Input));
        Assert.Equal(footer.Classes, parsed.Classes);
        Assert.Equal(footer.Mean, parsed.Mean);
        Assert.Equal(footer.Std, parsed.Std);
        Assert.Equal("1/4", metadata[ShardFooter.PartitionKey]);
        using var thresholds = JsonDocument.Parse(metadata[ShardFooter.ThresholdsKey]);
        Assert.Equal(5, thresholds.RootElement.GetProperty("caps").GetProperty("b").GetInt32());
        using var preprocessing = JsonDocument.Parse(metadata[ShardFooter.PreprocessingKey]);
        Assert.Equal(7UL, preprocessing.RootElement.GetProperty("view_seed").GetUInt64());
    }

    [Fact]
    public void Parse_NoTeacherKey_ThrowsNamingTheFileAndTheKey()
    {
        var metadata = new ShardFooter("0123456789abcdef", null, null, [], 28, 1, [0f], [1f], null, 1, 10, null).ToMetadata();
        metadata.Remove(ShardFooter.TeacherKey);

        var e = Assert.Throws<InvalidInputException>(() => ShardFooter.Parse(metadata, "teacher=x/part-1.parquet"));

        Assert.Contains("teacher=x/part-1.parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains(ShardFooter.TeacherKey, e.Message, StringComparison.Ordinal);
    }
}
