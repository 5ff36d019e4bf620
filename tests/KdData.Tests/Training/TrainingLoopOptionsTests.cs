using System.ComponentModel.DataAnnotations;
using KdData.Tests.Fixtures;
using KdData.Objectives;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

public sealed class TrainingLoopOptionsTests
{
    [Fact]
    public void Validate_Defaults_AreValidAndDocumented()
    {
        var options = new TrainingLoopOptions();

        Assert.Empty(Errors(options));
        Assert.Equal((10, 128, "adamw", 1e-3, 5e-4, 0.9, 1.0, 0.1, 42, 0.0),
            (options.Epochs, options.BatchSize, options.Optimizer, options.EffectiveLearningRate, options.WeightDecay,
             options.Momentum, options.WarmupEpochs, options.LabelSmoothing, options.Seed, options.MinLearningRate));
        Assert.Equal("Trainer:Teacher", TrainingLoopOptions.SectionName);
    }

    [Fact]
    public void Validate_EmaTeacherWithoutEmaDecay_FailsNamingEmaTeacher()
    {
        Assert.Contains(Errors(new TrainingLoopOptions { EmaTeacher = true }), e => e.MemberNames.Contains("EmaTeacher"));
        Assert.Empty(Errors(new TrainingLoopOptions { EmaTeacher = true, EmaDecay = 0.999 }));
        Assert.Equal((0.0, false), (new TrainingLoopOptions().EmaDecay, new TrainingLoopOptions().EmaTeacher));
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    public void Validate_EmaDecayOutsideRange_FailsNamingIt(double decay)
    {
        Assert.Contains(Errors(new TrainingLoopOptions { EmaDecay = decay }), e => e.MemberNames.Contains("EmaDecay"));
    }

    [Fact]
    public void EffectiveLearningRate_SgdWithoutRate_IsPointOne()
    {
        Assert.Equal(0.1, new TrainingLoopOptions { Optimizer = "sgd" }.EffectiveLearningRate);
        Assert.Equal(0.3, new TrainingLoopOptions { Optimizer = "sgd", LearningRate = 0.3 }.EffectiveLearningRate);
    }

    [Theory]
    [InlineData("adam", "Optimizer")]
    [InlineData("SGD", "Optimizer")]
    public void Validate_UnknownOptimizer_FailsNamingTheSetting(string optimizer, string member)
    {
        var errors = Errors(new TrainingLoopOptions { Optimizer = optimizer });

        Assert.Contains(errors, e => e.MemberNames.Contains(member));
    }

    [Fact]
    public void Validate_MinAboveLearningRate_Fails()
    {
        var errors = Errors(new TrainingLoopOptions { LearningRate = 0.01, MinLearningRate = 0.02 });

        Assert.Contains(errors, e => e.MemberNames.Contains(nameof(TrainingLoopOptions.MinLearningRate)));
    }

    [Fact]
    public void Constructor_InvalidOptions_Throws()
    {
        Assert.Throws<ValidationException>(() => new TrainingLoop(new TrainingLoopOptions { Epochs = 0 }, new CrossEntropyObjective(0.1)));
    }

    // The trainer applies its schedule through the param groups; this pins that TorchSharp's step honours them.
    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    public void ParamGroupLearningRate_SetToZero_StepLeavesWeightsUnchanged(string name)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var linear = nn.Linear(4, 2);
        using optim.Optimizer optimizer = name == "sgd"
            ? optim.SGD(linear.parameters(), 0.5, momentum: 0.9, nesterov: true)
            : optim.AdamW(linear.parameters(), 0.5);
        var before = linear.weight!.clone();
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = 0;
        }

        linear.call(randn(3, 4)).sum().backward();
        optimizer.step();
        var unchanged = linear.weight!.equal(before).all().item<bool>();
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = 0.5;
        }
        optimizer.zero_grad();
        linear.call(randn(3, 4)).sum().backward();
        optimizer.step();

        Assert.True(unchanged);
        Assert.False(linear.weight!.equal(before).all().item<bool>());
    }

    private static List<ValidationResult> Errors(TrainingLoopOptions options) => DataAnnotations.Validate(options);
}
