using KdData.Tests.Fixtures;
using KdData.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KdData.Tests.Training;

/// <summary>
/// The training loop's AdamW and SGD (<see cref="HeldScalarOptimizers"/>) against TorchSharp's: the same parameters
/// after every step on the same gradients, the same state file in both directions (checkpoints written before the
/// switch resume), and the same result while another thread collects garbage all the time.
/// </summary>
public sealed class HeldScalarOptimizersTests
{
    private const int Steps = 6;

    // Learning rate per step, as the warm-up and cosine schedule changes it.
    private static readonly double[] Rates = [0.02, 0.05, 0.1, 0.08, 0.03, 0.01];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Step_SameGradients_MatchesTorchSharpsOptimizerEveryStep(bool adamW)
    {
        // AdamW with decoupled weight decay on one group; SGD with Nesterov momentum and L2 weight decay on one group.
        var (ours, oursOptimizer) = Create(adamW, held: true);
        var (theirs, theirsOptimizer) = Create(adamW, held: false);
        using (oursOptimizer)
        using (theirsOptimizer)
        {
            for (var step = 0; step < Steps; step++)
            {
                Step(oursOptimizer, ours, step);
                Step(theirsOptimizer, theirs, step);
                AssertClose(theirs, ours, $"step {step + 1}");
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LoadStateDict_StateSavedByTheOtherImplementation_ContinuesIdentically(bool adamW)
    {
        // TorchSharp's optimizer writes the state (as checkpoints did before the switch); ours resumes from it, and
        // the reverse: both then take the same steps as an optimizer that never stopped.
        var (reference, referenceOptimizer) = Create(adamW, held: false);
        var (resumed, resumedOptimizer) = Create(adamW, held: true);
        var (back, backOptimizer) = Create(adamW, held: false);
        using (referenceOptimizer)
        using (resumedOptimizer)
        using (backOptimizer)
        {
            for (var step = 0; step < 3; step++)
            {
                Step(referenceOptimizer, reference, step);
            }
            var saved = Save(referenceOptimizer);
            Assert.Equal(adamW ? "AdamW" : "SGD", new BinaryReader(new MemoryStream(saved)).ReadString());
            Copy(reference, resumed);
            Load(resumedOptimizer, saved);
            Assert.Equal(saved, Save(resumedOptimizer));

            Step(resumedOptimizer, resumed, 3);
            Copy(resumed, back);
            Load(backOptimizer, Save(resumedOptimizer));
            for (var step = 3; step < Steps; step++)
            {
                Step(referenceOptimizer, reference, step);
                if (step > 3)
                {
                    Step(backOptimizer, back, step);
                }
            }
            AssertClose(reference, back, "after the round trip");
        }
    }

    [Fact]
    public void Step_UnderConstantGarbageCollection_GivesTheSameParameters()
    {
        // TorchSharp's own steps create implicit Scalars (several per parameter); these hold theirs.
        var expected = Trajectory();
        GarbageCollectionHammer.Run(() =>
        {
            for (var run = 0; run < 3; run++)
            {
                Assert.Equal(expected, Trajectory());
            }
        });
    }

    [Fact]
    public void Constructor_AmsGrad_IsRefused()
    {
        var p = new Parameter(zeros(2));
        Assert.Throws<NotSupportedException>(() => new HeldScalarOptimizers.AdamW([new AdamW.ParamGroup([p], new AdamW.Options { amsgrad = true })], 0.1));
    }

    private static float[] Trajectory()
    {
        var (adamParameters, adam) = AdamW(held: true);
        var (sgdParameters, sgd) = Sgd(held: true);
        using (adam)
        using (sgd)
        {
            var gradients = Enumerable.Range(0, Steps).Select(s => adamParameters.Select((p, i) => Gradient(p, s, i)).ToArray()).ToArray();
            for (var step = 0; step < 40; step++)
            {
                Step(adam, adamParameters, gradients[step % Steps]);
                Step(sgd, sgdParameters, gradients[step % Steps]);
            }
            return [.. adamParameters.Concat(sgdParameters).SelectMany(p => p.detach().flatten().data<float>().ToArray())];
        }
    }

    private static (Parameter[] Parameters, OptimizerHelper Optimizer) Create(bool adamW, bool held) => adamW ? AdamW(held) : Sgd(held);

    /// <summary>A matrix (decayed), a vector (not decayed) and a vector that never gets a gradient, as the loop groups them.</summary>
    private static Parameter[] Parameters() =>
        [
            new Parameter(linspace(-1, 1, 12).reshape(3, 4)),
            new Parameter(linspace(0.5, -0.5, 4)),
            new Parameter(ones(3)),
        ];

    private static (Parameter[] Parameters, OptimizerHelper Optimizer) AdamW(bool held)
    {
        var p = Parameters();
        AdamW.ParamGroup[] groups =
        [
            new AdamW.ParamGroup([p[0]], new AdamW.Options { weight_decay = 0.05 }),
            new AdamW.ParamGroup([p[1], p[2]], new AdamW.Options { weight_decay = 0 }),
        ];
        return (p, held ? new HeldScalarOptimizers.AdamW(groups, Rates[0]) : new AdamW(groups, Rates[0]));
    }

    private static (Parameter[] Parameters, OptimizerHelper Optimizer) Sgd(bool held)
    {
        var p = Parameters();
        SGD.ParamGroup[] groups =
        [
            new SGD.ParamGroup([p[0]], new SGD.Options { weight_decay = 0.05 }),
            new SGD.ParamGroup([p[1], p[2]], new SGD.Options { weight_decay = 0 }),
        ];
        return (p, held ? new HeldScalarOptimizers.SGD(groups, Rates[0], 0.9, nesterov: true) : new SGD(groups, Rates[0], 0.9, nesterov: true));
    }

    /// <summary>Step <paramref name="step"/>'s gradient of parameter <paramref name="index"/>: fixed, different per step.</summary>
    private static Tensor Gradient(Parameter p, int step, int index) =>
        tensor(Enumerable.Range(0, (int)p.numel()).Select(k => (float)Math.Sin((k * (0.7 + step)) + (index * 1.3))).ToArray()).reshape(p.shape);

    private static void Step(OptimizerHelper optimizer, Parameter[] parameters, int step) =>
        Step(optimizer, parameters, [.. parameters.Select((p, i) => Gradient(p, step, i))], Rates[step]);

    private static void Step(OptimizerHelper optimizer, Parameter[] parameters, Tensor[] gradients, double? rate = null)
    {
        using var scope = NewDisposeScope();
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = rate ?? Rates[0];
        }
        optimizer.zero_grad();
        // The last parameter gets no gradient (as a head whose term is off): both optimizers must skip it.
        for (var i = 0; i < parameters.Length - 1; i++)
        {
            parameters[i].mul(gradients[i]).sum().backward();
        }
        optimizer.step();
    }

    private static void AssertClose(Parameter[] expected, Parameter[] actual, string when)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            var difference = (expected[i] - actual[i]).abs().max().item<float>();
            Assert.True(difference <= 1e-6, $"parameter {i} {when}: max |difference| {difference}");
        }
    }

    private static void Copy(Parameter[] from, Parameter[] to)
    {
        using var noGrad = no_grad();
        for (var i = 0; i < from.Length; i++)
        {
            to[i].copy_(from[i]);
        }
    }

    private static byte[] Save(OptimizerHelper optimizer)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            optimizer.save_state_dict(writer);
        }
        return buffer.ToArray();
    }

    private static void Load(OptimizerHelper optimizer, byte[] state)
    {
        using var reader = new BinaryReader(new MemoryStream(state));
        optimizer.load_state_dict(reader);
    }
}
