using KdData.Evaluation;
using KdData.Training;
using static TorchSharp.torch;

namespace KdData.Tests.Evaluation;

public sealed class EvaluatorTests
{
    [Fact]
    public async Task RunAsync_TwoModels_LogitsInDataOrderAndModesRestored()
    {
        // 5 samples of 1x2x2, batches of 2: the outputs must line up with a direct forward pass over all of them.
        var pixels = Enumerable.Range(0, 20).Select(i => (float)Math.Sin(i)).ToArray();
        long[] labels = [0, 1, 2, 1, 0];
        var data = new InMemoryTrainingData(pixels, labels, channels: 1, height: 2, width: 2, batchSize: 2);
        manual_seed(7);
        using var first = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.Dropout(0.5));
        using var second = nn.Sequential(nn.Flatten(), nn.Linear(4, 3));
        second.eval();

        var outputs = await new Evaluator().RunAsync([first, second], data);

        Assert.True(first.training);
        Assert.False(second.training);
        Assert.Equal(labels, outputs[0].Labels);
        Assert.Same(outputs[0].Labels, outputs[1].Labels);
        Assert.Equal(3, outputs[0].NumClasses);
        first.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var expected = first.call(tensor(pixels, [5, 1, 2, 2])).data<float>().ToArray();
        Assert.Equal(expected.Length, outputs[0].Logits.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], outputs[0].Logits[i], 5);
        }
    }
}
