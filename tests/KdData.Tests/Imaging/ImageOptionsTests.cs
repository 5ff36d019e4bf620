using System.ComponentModel.DataAnnotations;
using KdData.Tests.Fixtures;
using KdData.Imaging;
using Microsoft.Extensions.Configuration;

namespace KdData.Tests.Imaging;

public sealed class ImageOptionsTests
{
    private static List<ValidationResult> Validate(ImageOptions options) => DataAnnotations.Validate(options);

    [Fact]
    public void Defaults_AreValidAndUseImageNetStatistics()
    {
        var options = new ImageOptions();

        Assert.Empty(Validate(options));
        Assert.Equal(ImageOptions.ImageNetMean, options.GetEffectiveMean());
        Assert.Equal(ImageOptions.ImageNetStd, options.GetEffectiveStd());
    }

    [Theory]
    [InlineData(nameof(ImageOptions.Channels))]
    [InlineData(nameof(ImageOptions.Std))]
    [InlineData(nameof(ImageOptions.ResizeSize))]
    [InlineData(nameof(ImageOptions.Background))]
    [InlineData(nameof(ImageOptions.MaxPixels))]
    public void Validate_BadSetting_ReportsThatMember(string member)
    {
        var options = new ImageOptions();
        switch (member)
        {
            case nameof(ImageOptions.Channels): options.Channels = 2; break;
            case nameof(ImageOptions.Std): options.Std = [0.2f, 0f, 0.2f]; break;
            case nameof(ImageOptions.ResizeSize): options.ResizeSize = 100; break;
            case nameof(ImageOptions.Background): options.Background = "white"; break;
            default: options.MaxPixels = 0; break;
        }

        var results = Validate(options);

        Assert.Contains(results, r => r.MemberNames.Contains(member));
    }

    [Fact]
    public void Bind_FromConfiguration_ReplacesDefaultsRatherThanAppending()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Imaging:OutputSize"] = "96",
            ["Imaging:ResizeMode"] = "Stretch",
            ["Imaging:Channels"] = "1",
            ["Imaging:Mean:0"] = "0.5",
            ["Imaging:Std:0"] = "0.25",
            ["Imaging:MaxPixels"] = "1000000",
        }).Build();

        var options = configuration.GetSection(ImageOptions.SectionName).Get<ImageOptions>();

        Assert.NotNull(options);
        Assert.Equal(96, options.OutputSize);
        Assert.Equal(ResizeMode.Stretch, options.ResizeMode);
        Assert.Equal([0.5f], options.GetEffectiveMean());
        Assert.Equal([0.25f], options.GetEffectiveStd());
        Assert.Equal(1_000_000, options.MaxPixels);
        Assert.Empty(Validate(options));
    }

    [Fact]
    public void ForPreprocessing_CheckpointRecord_TakesItsInputAndKeepsTheDecodingSettings()
    {
        var configured = new ImageOptions { ResizeMode = ResizeMode.Stretch, Background = "#000000", MaxPixels = 1_000_000, MaxBytes = 4096 };

        var recorded = configured.ForPreprocessing(new KdData.Models.PreprocessingRecord { Width = 28, Height = 28, Channels = 1, Mean = [0.5f], Std = [0.25f] });
        var unnormalised = configured.ForPreprocessing(new KdData.Models.PreprocessingRecord { Width = 32, Height = 32, Channels = 3 });

        Assert.Equal((28, 28, 1), (recorded.OutputSize, recorded.ResizeSize, recorded.Channels));
        Assert.Equal([0.5f], recorded.GetEffectiveMean());
        Assert.Equal([0.25f], recorded.GetEffectiveStd());
        Assert.Equal((ResizeMode.Stretch, "#000000", 1_000_000L, 4096L), (recorded.ResizeMode, recorded.Background, recorded.MaxPixels, recorded.MaxBytes));
        Assert.Equal([0f, 0f, 0f], unnormalised.GetEffectiveMean());
        Assert.Equal([1f, 1f, 1f], unnormalised.GetEffectiveStd());
        Assert.Empty(Validate(recorded));
    }
}
