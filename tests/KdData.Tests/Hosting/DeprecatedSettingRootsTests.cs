using KdData.Hosting;
using Microsoft.Extensions.Configuration;

namespace KdData.Tests.Hosting;

public sealed class DeprecatedSettingRootsTests
{
    // Sources in precedence order, as the host adds them: appsettings first, the command line last.
    private static ConfigurationManager Configuration(params Dictionary<string, string?>[] sources)
    {
        var configuration = new ConfigurationManager();
        foreach (var source in sources)
        {
            configuration.AddInMemoryCollection(source);
        }

        return configuration;
    }

    [Fact]
    public void Apply_OldKeyOnly_ReadUnderTheNewNameWithAWarningNamingBoth()
    {
        var configuration = Configuration(new Dictionary<string, string?> { ["Export:Measure"] = "false", ["Partition:Count"] = "4" });

        var warnings = DeprecatedSettingRoots.Apply(configuration);

        Assert.Equal("false", configuration["Trainer:Export:Measure"]);
        Assert.Equal("4", configuration["Labeler:Partition:Count"]);
        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("'Export:Measure'", StringComparison.Ordinal) && w.Contains("'Trainer:Export:Measure'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'Partition:Count'", StringComparison.Ordinal) && w.Contains("'Labeler:Partition:Count'", StringComparison.Ordinal));
    }

    [Fact]
    public void Apply_OldKeyInALaterSourceThanTheNewDefault_OldValueWins()
    {
        // appsettings.json's default under the new name; a deployment's environment still uses the old name.
        var configuration = Configuration(new Dictionary<string, string?> { ["Labeler:Partition:Count"] = "1" }, new Dictionary<string, string?> { ["Partition:Count"] = "8" });

        var warnings = DeprecatedSettingRoots.Apply(configuration);

        Assert.Equal("8", configuration["Labeler:Partition:Count"]);
        Assert.Single(warnings);
        Assert.DoesNotContain("ignored", warnings[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)] // the new name in a later source
    [InlineData(true)]  // both in one source
    public void Apply_NewKeyInTheSameOrALaterSource_NewValueWinsAndTheWarningSaysTheOldIsIgnored(bool sameSource)
    {
        var configuration = sameSource
            ? Configuration(new Dictionary<string, string?> { ["Quantize:Method"] = "qat", ["Trainer:Quantize:Method"] = "ptq" })
            : Configuration(new Dictionary<string, string?> { ["Quantize:Method"] = "qat" }, new Dictionary<string, string?> { ["Trainer:Quantize:Method"] = "ptq" });

        var warnings = DeprecatedSettingRoots.Apply(configuration);

        Assert.Equal("ptq", configuration["Trainer:Quantize:Method"]);
        Assert.Contains("'Quantize:Method' is deprecated and ignored", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_KeysUnderNoOldRoot_UntouchedAndNoWarning()
    {
        var configuration = Configuration(new Dictionary<string, string?>
        {
            ["Trainer:Export:Measure"] = "false",
            ["Exporter:Measure"] = "x",
            ["Labeler:Input"] = "file:in/",
            ["Import"] = "a value at the root itself, not a section",
        });

        var warnings = DeprecatedSettingRoots.Apply(configuration);

        Assert.Empty(warnings);
        Assert.Null(configuration["Trainer:Exporter:Measure"]);
        Assert.Null(configuration["Trainer:Import"]);
    }

    [Theory]
    [InlineData("evaluate:batchSize", "Trainer:Evaluate:batchSize")]
    [InlineData("Quantize:Qat:Epochs", "Trainer:Quantize:Qat:Epochs")]
    [InlineData("Import:Source", "Trainer:Import:Source")]
    [InlineData("Trainer:Import:Source", null)]
    [InlineData("ImportSource", null)]
    public void NewName_Key_MapsOnlyKeysUnderAnOldRoot(string key, string? expected)
    {
        Assert.Equal(expected, DeprecatedSettingRoots.NewName(key));
    }
}
