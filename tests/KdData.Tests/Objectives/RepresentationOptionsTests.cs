using System.ComponentModel.DataAnnotations;
using KdData.Tests.Fixtures;
using KdData.Objectives;

namespace KdData.Tests.Objectives;

/// <summary>Start-up validation of the representation-KD settings (a bad one is exit 2 naming the key).</summary>
public sealed class RepresentationOptionsTests
{
    private static List<ValidationResult> Validate(RepresentationOptions options) => DataAnnotations.Validate(options);

    [Fact]
    public void Validate_Defaults_AreValidAndAllTermsOff()
    {
        var options = new RepresentationOptions();

        Assert.Empty(Validate(options));
        Assert.False(options.AnyEnabled);
        Assert.Equal(0.05, options.Hint.Weight);
        Assert.Equal(0.07, options.Crd.Temperature);
        Assert.Equal((25.0, 50.0), (options.Rkd.DistanceWeight, options.Rkd.AngleWeight));
    }

    [Fact]
    public void Validate_AttentionLayerCountsDiffer_NamesTheKey()
    {
        var options = new RepresentationOptions { Attention = new AttentionTransferOptions { StudentLayers = "features.0,features.1", TeacherLayers = "features.1" } };

        var result = Assert.Single(Validate(options));

        Assert.Contains("Attention.StudentLayers", result.MemberNames);
    }

    [Fact]
    public void Validate_CrdTemperatureZero_NamesTheNestedKey()
    {
        var options = new RepresentationOptions { Crd = new CrdOptions { Temperature = 0 } };

        var result = Assert.Single(Validate(options));

        Assert.Contains("Crd.Temperature", result.MemberNames);
    }

    [Fact]
    public void EnabledTerms_SomeOn_ListsThemInFixedOrder()
    {
        var options = new RepresentationOptions { Crd = new CrdOptions { Enabled = true }, Hint = new HintOptions { Enabled = true } };

        Assert.Equal(["hint", "crd"], options.EnabledTerms);
        Assert.Equal(["features.0", "features.1"], RepresentationOptions.SplitLayers(" features.0, ,features.1 "));
    }
}
