using KdData.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>The moving average of the weights (<see cref="WeightAverage"/>) against hand-computed values.</summary>
public sealed class WeightAverageTests
{
    [Fact]
    public void Update_TwoSteps_ParametersAreTheHandComputedAverageAndBuffersAreCopied()
    {
        using var model = Model();
        Fill(model, weight: 1, runningMean: 0);
        using var average = new WeightAverage(model, decay: 0.5);

        Fill(model, weight: 3, runningMean: 7);
        average.Update();
        Fill(model, weight: 5, runningMean: 9);
        average.Update();

        // a = 0.5 * (0.5 * 1 + 0.5 * 3) + 0.5 * 5 = 3.5; the running mean is the model's latest, not averaged.
        using (average.Swap())
        {
            Assert.Equal(3.5f, Weight(model), 6);
            Assert.Equal(9f, RunningMean(model), 6);
        }
        Assert.Equal(5f, Weight(model), 6);
        Assert.Equal(9f, RunningMean(model), 6);
    }

    [Fact]
    public void Swap_DisposedTwice_SwapsBackOnce()
    {
        using var run = Averaged(from: 2, decay: 0.9, to: 4);

        var swapped = run.Average.Swap();
        Assert.Equal(2f, Weight(run.Model), 6);
        swapped.Dispose();
        swapped.Dispose();

        Assert.Equal(4f, Weight(run.Model), 6);
    }

    [Fact]
    public void Publish_AfterUpdate_LeavesTheAverageInTheModel()
    {
        using var run = Averaged(from: 0, decay: 0.75, to: 8);
        run.Average.Update();

        run.Average.Publish();

        // 0.75 * 0 + 0.25 * 8 = 2
        Assert.Equal(2f, Weight(run.Model), 6);
    }

    [Fact]
    public void Reset_AfterUpdates_StartsTheAverageAtTheModelsWeights()
    {
        using var run = Averaged(from: 1, decay: 0.5, to: 6);

        run.Average.Reset();

        using (run.Average.Swap())
        {
            Assert.Equal(6f, Weight(run.Model), 6);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Constructor_DecayOutsideOpenUnitInterval_Throws(double decay)
    {
        using var model = Model();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(model, decay));

        Assert.Equal("decay", error.ParamName);
    }

    /// <summary>A model whose weights were <paramref name="from"/> when the average started and are <paramref name="to"/> now.</summary>
    private static AveragedModel Averaged(float from, double decay, float to)
    {
        var model = Model();
        Fill(model, weight: from, runningMean: 0);
        var average = new WeightAverage(model, decay);
        Fill(model, weight: to, runningMean: 0);
        return new AveragedModel(model, average);
    }

    private sealed record AveragedModel(Sequential Model, WeightAverage Average) : IDisposable
    {
        public void Dispose()
        {
            Average.Dispose();
            Model.Dispose();
        }
    }

    private static Sequential Model() => nn.Sequential(("fc", nn.Linear(2, 2)), ("bn", nn.BatchNorm1d(2)));

    private static void Fill(Sequential model, float weight, float runningMean)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var state = model.state_dict();
        state["fc.weight"].fill_(weight);
        state["bn.running_mean"].fill_(runningMean);
    }

    private static float Weight(Sequential model)
    {
        using var scope = NewDisposeScope();
        return model.state_dict()["fc.weight"].mean().item<float>();
    }

    private static float RunningMean(Sequential model)
    {
        using var scope = NewDisposeScope();
        return model.state_dict()["bn.running_mean"].mean().item<float>();
    }
}
