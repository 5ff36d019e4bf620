using System.ComponentModel.DataAnnotations;
using KdData.Tests.Fixtures;
using KdData.Objectives;
using Microsoft.Extensions.Configuration;

namespace KdData.Tests.Objectives;

public sealed class ObjectiveOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValidAndDocumented()
    {
        var options = new ObjectiveOptions();

        Assert.Empty(Errors(options));
        Assert.Equal(("Trainer:Objective", "kd", 0.0, false, 0.95, 1.0),
            (ObjectiveOptions.SectionName, options.Name, options.LabelSmoothing, options.ConfidenceWeighting,
             options.PseudoLabelThreshold, options.UnlabeledWeight));
        Assert.Equal((4.0, 2.0, 0.9, 0.5, "cosine"),
            (options.Curriculum.TemperatureStart, options.Curriculum.TemperatureEnd, options.Curriculum.AlphaStart,
             options.Curriculum.AlphaEnd, options.Curriculum.Shape));
    }

    [Fact]
    public void Bind_ConfigurationKeys_ReachOptionsAndCurriculum()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Trainer:Objective:Name"] = "pseudo-ce",
            ["Trainer:Objective:PseudoLabelThreshold"] = "0.8",
            ["Trainer:Objective:UnlabeledWeight"] = "2",
            ["Trainer:Objective:Curriculum:Shape"] = "linear",
            ["Trainer:Objective:Curriculum:TemperatureEnd"] = "1",
        }).Build();

        var options = configuration.GetSection(ObjectiveOptions.SectionName).Get<ObjectiveOptions>()!;
        var objective = Assert.IsType<HardPseudoLabelObjective>(TrainingObjectives.Create(options));

        Assert.Equal((0.8, 2.0), (objective.Threshold, objective.UnlabeledWeight));
        Assert.Equal(new ObjectiveSchedule(1.0, 0.5), new DistillationCurriculum(options.Curriculum).At(3, 3));
    }

    [Fact]
    public void Create_EachName_ReturnsThatObjectiveWithItsSettings()
    {
        var ce = TrainingObjectives.Create(new ObjectiveOptions { Name = "ce", LabelSmoothing = 0.1 });
        var kd = TrainingObjectives.Create(new ObjectiveOptions { Name = "kd", LabelSmoothing = 0.05, ConfidenceWeighting = true });
        var pseudo = TrainingObjectives.Create(new ObjectiveOptions { Name = "pseudo-ce", PseudoLabelThreshold = 0.7 });

        Assert.Equal(0.1, Assert.IsType<CrossEntropyObjective>(ce).LabelSmoothing);
        var hinton = Assert.IsType<HintonDistillationObjective>(kd);
        Assert.Equal((0.05, true), (hinton.LabelSmoothing, hinton.ConfidenceWeighting));
        Assert.Equal(0.7, Assert.IsType<HardPseudoLabelObjective>(pseudo).Threshold);
        Assert.Equal(TrainingObjectives.Names, new[] { ce.Name, kd.Name, pseudo.Name });
    }

    [Theory]
    [InlineData("fitnet")]
    [InlineData("KD")]
    [InlineData("")]
    public void Create_UnknownName_ThrowsNamingTheKeyAndTheValidNames(string name)
    {
        var error = Assert.Throws<ValidationException>(() => TrainingObjectives.Create(new ObjectiveOptions { Name = name }));

        Assert.Contains("Trainer:Objective:Name", error.Message, StringComparison.Ordinal);
        Assert.Contains("ce, kd, pseudo-ce", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidCurriculum_FailsNamingTheNestedMember()
    {
        var options = new ObjectiveOptions { Curriculum = new DistillationCurriculumOptions { AlphaEnd = 2.0, Shape = "step" } };

        var errors = Errors(options);

        Assert.Contains(errors, e => e.MemberNames.Contains("Curriculum.AlphaEnd"));
        Assert.Throws<ValidationException>(() => TrainingObjectives.Create(options));
    }

    [Theory]
    [InlineData(nameof(ObjectiveOptions.LabelSmoothing))]
    [InlineData(nameof(ObjectiveOptions.PseudoLabelThreshold))]
    [InlineData(nameof(ObjectiveOptions.UnlabeledWeight))]
    public void Validate_OutOfRangeSetting_FailsNamingIt(string member)
    {
        var options = new ObjectiveOptions();
        typeof(ObjectiveOptions).GetProperty(member)!.SetValue(options, -1.0);

        Assert.Contains(Errors(options), e => e.MemberNames.Contains(member));
    }

    private static List<ValidationResult> Errors(ObjectiveOptions options) => DataAnnotations.Validate(options);
}
