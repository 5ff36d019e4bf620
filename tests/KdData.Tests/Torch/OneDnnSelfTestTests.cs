using KdData.Models;
using KdData.Objectives;
using KdData.Tests.Fixtures;
using KdData.Tests.Training;
using KdData.Torch;
using KdData.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Tests.Torch;

/// <summary>
/// The oneDNN switch is process-wide and the test assembly keeps it off (<c>KDDATA_TORCH_ONEDNN=0</c>), so the tests
/// that flip it run alone, after the parallel classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneDnnSwitchTestGroup
{
    public const string Name = "oneDNN switch";
}

[Collection(OneDnnSwitchTestGroup.Name)]
public sealed class OneDnnSelfTestTests
{
    [Fact]
    public void Check_ConvNet_LeavesModelAndSwitchAsTheyWere()
    {
        manual_seed(3);
        using var model = ModelZoo.Create(new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 8, Depth = 3 });
        model.train();
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        manual_seed(11);
        var expectedDraw = rand(4).data<float>().ToArray();
        manual_seed(11);

        var check = OneDnnSelfTest.Check("convnet", model, [1, 12, 12], [1, 5, 16], gradients: true);

        Assert.Equal([1, 5, 16], check.BatchSizes);
        Assert.True(check.Gradients);
        Assert.False(TorchRuntime.OneDnnEnabled);
        Assert.True(model.training);
        Assert.Equal(expectedDraw, rand(4).data<float>().ToArray()); // the torch generator was not used
        foreach (var (name, value) in model.state_dict())
        {
            // BatchNorm's running statistics included: the check ran in eval mode.
            Assert.True(before[name].allclose(value, rtol: 0, atol: 0), $"{name} changed");
        }
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0, "a gradient was left behind"));
    }

    [Fact]
    public void Check_OutputThatDiffersUnderOneDnn_Disagrees()
    {
        using var model = new SwitchSensitive(outputShift: 0.5f);

        var check = OneDnnSelfTest.Check("sensitive", model, [3], [2, 7], gradients: false);

        Assert.False(check.Agrees);
        Assert.StartsWith("output at batch ", check.Worst, StringComparison.Ordinal);
        Assert.True(check.WorstRelativeError > OneDnnSelfTest.Tolerance);
        Assert.False(TorchRuntime.OneDnnEnabled);
    }

    [Theory]
    [InlineData(18, 19, 28, 1)]
    [InlineData(19, 34, 28, 2)]
    [InlineData(34, 39, 14, 1)]
    [InlineData(39, 80, 14, 2)]
    [InlineData(32, 64, 14, 1)]
    public void Check_PrunedChannelCounts_AgreesExactlyWhereOneDnnMatchesDirectSum(int inChannels, int outChannels, int size, int stride)
    {
        // Shapes of a pruned wide ResNet on which oneDNN computed wrong results on an AMD Zen 5 machine; on another CPU
        // it may be right. Either way the self-test's verdict must match the truth (a direct sum).
        manual_seed(inChannels);
        using var conv = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        var sample = new long[] { inChannels, size, size };

        var outputs = OneDnnSelfTest.Check("conv", conv, sample, [5], gradients: false);
        var withGradients = OneDnnSelfTest.Check("conv", conv, sample, [5], gradients: true);
        var worstAgainstDirectSum = OneDnnDirectSumError(conv, 5, inChannels, outChannels, size, stride);

        Assert.Equal(worstAgainstDirectSum < 1e-3, outputs.Agrees);
        // With gradients the check can only be stricter (oneDNN's backward could be wrong where its forward is right).
        Assert.True(withGradients.WorstRelativeError >= outputs.WorstRelativeError);
        Assert.True(worstAgainstDirectSum < 1e-3 || !withGradients.Agrees);
    }

    [Fact]
    public void Enter_AutoWithAgreeingCheck_OnInsideOffAfter()
    {
        var checkedModels = 0;
        using (var scope = OneDnnScope.Enter(OneDnnPolicy.Auto, () => { checkedModels++; return [Agreeing()]; }))
        {
            Assert.True(scope.Enabled);
            Assert.True(TorchRuntime.OneDnnEnabled);
            Assert.Contains("agreed", scope.Reason, StringComparison.Ordinal);

            using var nested = OneDnnScope.Enter(OneDnnPolicy.Off, () => throw new InvalidOperationException("not run"));
            Assert.True(nested.Enabled); // the open scope decides
            Assert.True(TorchRuntime.OneDnnEnabled);
        }
        Assert.Equal(1, checkedModels);
        Assert.False(TorchRuntime.OneDnnEnabled);
    }

    [Fact]
    public void Enter_AutoWithDisagreeingCheck_StaysOffAndSaysWhy()
    {
        using var scope = OneDnnScope.Enter(OneDnnPolicy.Auto, () => [Agreeing(), Agreeing() with { Agrees = false, Model = "pruned", Worst = "output at batch 5" }]);

        Assert.False(scope.Enabled);
        Assert.False(TorchRuntime.OneDnnEnabled);
        Assert.Contains("pruned", scope.Reason, StringComparison.Ordinal);
        Assert.Contains("output at batch 5", scope.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(OneDnnPolicy.On, true)]
    [InlineData(OneDnnPolicy.Off, false)]
    public void Enter_OnOrOff_RunsNoCheck(OneDnnPolicy policy, bool enabled)
    {
        using (var scope = OneDnnScope.Enter(policy, () => throw new InvalidOperationException("a check ran")))
        {
            Assert.Equal(enabled, scope.Enabled);
            Assert.Equal(enabled, TorchRuntime.OneDnnEnabled);
        }
        Assert.False(TorchRuntime.OneDnnEnabled);
    }

    [Fact]
    public async Task RunAsync_PolicyAuto_ChecksTheStudentAndRestoresTheSwitch()
    {
        using var directory = new TempDirectory();
        var logger = new RecordingLogger<TrainingLoop>();
        var spec = new ModelSpec { Name = "convnet", NumClasses = QuadrantImages.Classes, InChannels = 1, Width = 4, Depth = 2 };
        var job = new TrainingSetup
        {
            Architecture = spec,
            Train = QuadrantImages.Data(64, seed: 5, batchSize: 16, shuffleSeed: 1),
            Eval = QuadrantImages.Data(16, seed: 6, batchSize: 8, shuffleSeed: null),
            OutputDirectory = directory.Path,
            Preprocessing = new PreprocessingRecord { Channels = 1, Height = QuadrantImages.Size, Width = QuadrantImages.Size },
        };
        var variable = Environment.GetEnvironmentVariable(TorchRuntime.OneDnnVariable);
        try
        {
            Environment.SetEnvironmentVariable(TorchRuntime.OneDnnVariable, null);
            TorchRuntime.UsePolicy(OneDnnPolicy.Auto);
            var options = new TrainingLoopOptions { Epochs = 1, BatchSize = 16 };

            var result = await new TrainingLoop(options, new CrossEntropyObjective(0.1), logger: logger).RunAsync(job);

            Assert.Equal(1, result.EpochsCompleted);
            var line = Assert.Single(logger.Messages, m => m.StartsWith("oneDNN kernels", StringComparison.Ordinal));
            // Whichever way the self-test went on this CPU, it ran on the student at the loop's batch sizes.
            Assert.Contains("self-test", line, StringComparison.Ordinal);
            Assert.Contains("convnet at batch 1, 5, 16, 256, outputs and gradients", line, StringComparison.Ordinal);
            Assert.False(TorchRuntime.OneDnnEnabled);
        }
        finally
        {
            Environment.SetEnvironmentVariable(TorchRuntime.OneDnnVariable, variable);
            TorchRuntime.UsePolicy(OneDnnPolicy.Off);
        }
    }

    private static OneDnnCheck Agreeing() => new()
    {
        Model = "convnet",
        Agrees = true,
        WorstRelativeError = 1e-7,
        BatchSizes = [1, 5],
        Worst = "output at batch 5",
        Gradients = true,
    };

    private static double OneDnnDirectSumError(Conv2d conv, int batch, int inChannels, int outChannels, int size, int stride)
    {
        var random = new Random(batch + outChannels);
        var x = Enumerable.Range(0, batch * inChannels * size * size).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        var w = conv.weight!.detach().data<float>().ToArray();
        float[] y;
        TorchRuntime.SetOneDnn(true);
        try
        {
            using var noGrad = no_grad();
            y = conv.call(tensor(x, [batch, inChannels, size, size])).data<float>().ToArray();
        }
        finally
        {
            TorchRuntime.SetOneDnn(false);
        }
        var outSize = ((size + 2 - 3) / stride) + 1;
        var worst = 0.0;
        var scale = 0.0;
        for (var n = 0; n < batch; n++)
        for (var o = 0; o < outChannels; o++)
        for (var r = 0; r < outSize; r++)
        for (var c = 0; c < outSize; c++)
        {
            var sum = 0.0;
            for (var i = 0; i < inChannels; i++)
            for (var kr = 0; kr < 3; kr++)
            for (var kc = 0; kc < 3; kc++)
            {
                int row = (r * stride) + kr - 1, col = (c * stride) + kc - 1;
                if (row >= 0 && col >= 0 && row < size && col < size)
                {
                    sum += x[((((n * inChannels) + i) * size) + row) * size + col] * w[((((o * inChannels) + i) * 3) + kr) * 3 + kc];
                }
            }
            scale = Math.Max(scale, Math.Abs(sum));
            worst = Math.Max(worst, Math.Abs(sum - y[((((n * outChannels) + o) * outSize) + r) * outSize + c]));
        }
        return worst / scale; // relative, as the self-test measures
    }

    /// <summary>A stand-in for a kernel that is wrong on every machine: under oneDNN its output is shifted.</summary>
    private sealed class SwitchSensitive : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter _weight;
        private readonly float _outputShift;

        public SwitchSensitive(float outputShift) : base(nameof(SwitchSensitive))
        {
            _weight = new Parameter(tensor(new float[] { 0.5f, -1f, 2f }));
            _outputShift = outputShift;
            register_parameter("weight", _weight);
        }

        public override Tensor forward(Tensor input)
        {
            var product = input.mul(_weight);
            return TorchRuntime.OneDnnEnabled ? HeldScalars.Add(product, tensor(_outputShift)) : product;
        }
    }
}
