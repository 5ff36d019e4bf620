using KdData.Models;
using KdData.Quantization;
using static TorchSharp.torch;

namespace KdData.Tests.Quantization;

/// <summary>
/// The activation ranges of <see cref="QatConvNet"/>: an EMA of each training batch's min and max, frozen in eval mode.
/// Each test gets its own two-block convnet (width 4: three ranges, the input's and each block's) with known starting ranges.
/// </summary>
public sealed class QatConvNetTests : IDisposable
{
    // m = 0.25 and ranges that are sums of powers of two keep every step of the EMA exact in float.
    private const double Momentum = 0.25;

    private static readonly ActivationRange InputRange = new(-1f, 1f);
    private static readonly ActivationRange BlockRange = new(0f, 8f);

    private readonly nn.Module<Tensor, Tensor> _convnet = ModelZoo.Create(new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 4, Depth = 2 });
    private readonly QatConvNet _qat;

    public QatConvNetTests() => _qat = new QatConvNet(_convnet, [InputRange, BlockRange, BlockRange], Momentum);

    public void Dispose()
    {
        _qat.Dispose();
        _convnet.Dispose();
    }

    /// <summary>A 2x1x8x8 batch: (k mod 11) / 4 - 0.5 for k = 0..127, so its min is -0.5 (k mod 11 = 0) and its max 2.0 (k mod 11 = 10).</summary>
    private static Tensor Batch() =>
        tensor(Enumerable.Range(0, 128).Select(k => ((k % 11) * 0.25f) - 0.5f).ToArray(), [2, 1, 8, 8]);

    [Fact]
    public void Forward_TrainingMode_InputRangeMovesByTheEmaOfTheBatchMinAndMax()
    {
        _qat.train();
        using var scope = NewDisposeScope();
        var batch = Batch();
        Assert.Equal(-0.5f, batch.min().item<float>());
        Assert.Equal(2.0f, batch.max().item<float>());

        _qat.call(batch);

        // r <- (1 - m) r + m r_batch: min 0.75 * -1 + 0.25 * -0.5 = -0.875, max 0.75 * 1 + 0.25 * 2 = 1.25.
        Assert.Equal(new ActivationRange(-0.875f, 1.25f), _qat.Ranges[0]);
        Assert.All(_qat.Ranges.Skip(1), r => Assert.NotEqual(BlockRange, r)); // the blocks' ranges move too

        _qat.call(batch);

        // Again from there: min 0.75 * -0.875 + 0.25 * -0.5 = -0.78125, max 0.75 * 1.25 + 0.25 * 2 = 1.4375.
        Assert.Equal(new ActivationRange(-0.78125f, 1.4375f), _qat.Ranges[0]);
    }

    [Fact]
    public void Forward_EvalMode_RangesUnchanged()
    {
        _qat.eval();
        using var scope = NewDisposeScope();

        var first = _qat.call(Batch()).data<float>().ToArray();
        var second = _qat.call(Batch()).data<float>().ToArray();

        Assert.Equal([InputRange, BlockRange, BlockRange], _qat.Ranges);
        Assert.Equal(first, second);
        Assert.All(first, v => Assert.True(float.IsFinite(v)));
    }
}
