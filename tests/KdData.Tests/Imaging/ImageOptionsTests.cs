using System.ComponentModel.DataAnnotations;
using KdData.Imaging;
using Microsoft.Extensions.Configuration;

namespace KdData.Tests.Imaging;

public sealed class ImageOptionsTests
{
    private static List<ValidationResult> Validate(ImageOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

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
}
