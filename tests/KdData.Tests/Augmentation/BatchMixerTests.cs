using KdData.Augmentation;
using KdData.Training;

namespace KdData.Tests.Augmentation;

public sealed class BatchMixerTests
{
    private const int Side = 8;
    private const int Classes = 3;

    // Six rows: four labeled, two pseudo-labeled; every pixel of row i is i + 1 plus a ramp, so rows are told apart.
    private static LabeledBatch Batch(bool withTeacher = true)
    {
        long[] labels = [0, 1, 2, 1, -1, -1];
        var pixels = new float[labels.Length * Side * Side];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i / (Side * Side)) + 1 + ((i % (Side * Side)) / 100f);
        }
        var batch = new LabeledBatch(pixels, labels, 1, Side, Side);
        if (!withTeacher)
        {
            return batch;
        }
        var teacher = Enumerable.Range(0, labels.Length * Classes).Select(v => (float)(v % 5)).ToArray();
        return batch.WithTeacher(teacher, Classes);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(99UL)]
    public void Apply_MixUp_PixelsAreTheConvexCombinationOfThePartners(ulong seed)
    {
        var batch = Batch();
        var mixer = new BatchMixer(new DistillationAugmentOptions { MixUp = true, MixUpAlpha = 0.4 });

        var mixed = mixer.Apply(batch, seed);

        var mix = Assert.IsType<BatchMix>(mixed.Mix);
        Assert.Equal(BatchMix.MixUp, mix.Kind);
        Assert.InRange(mix.Lambda, 0.0, 1.0);
        var sample = Side * Side;
        for (var i = 0; i < batch.Count; i++)
        {
            for (var k = 0; k < sample; k++)
            {
                var expected = (mix.Lambda * batch.Pixels[(i * sample) + k]) + ((1 - mix.Lambda) * batch.Pixels[(mix.Partner[i] * sample) + k]);
                Assert.Equal(expected, mixed.Pixels[(i * sample) + k], 1e-5);
            }
        }
        Assert.Same(batch.Labels, mixed.Labels);
        Assert.Same(batch.TeacherLogits, mixed.TeacherLogits);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(5UL)]
    [InlineData(12345UL)]
    public void Apply_CutMix_LambdaIsOneMinusTheBoxAreaAndTheBoxIsPasted(ulong seed)
    {
        var batch = Batch();
        var mixer = new BatchMixer(new DistillationAugmentOptions { CutMix = true });

        var mixed = mixer.Apply(batch, seed);

        var mix = Assert.IsType<BatchMix>(mixed.Mix);
        Assert.Equal(BatchMix.CutMix, mix.Kind);
        var box = Assert.NotNull(mix.Box);
        Assert.Equal(1.0 - ((double)box.Width * box.Height / (Side * Side)), mix.Lambda); // exact, not approximately
        var sample = Side * Side;
        for (var i = 0; i < batch.Count; i++)
        {
            for (var y = 0; y < Side; y++)
            {
                for (var x = 0; x < Side; x++)
                {
                    var inBox = x >= box.X && x < box.X + box.Width && y >= box.Y && y < box.Y + box.Height;
                    var source = inBox ? mix.Partner[i] : i;
                    Assert.Equal(batch.Pixels[(source * sample) + (y * Side) + x], mixed.Pixels[(i * sample) + (y * Side) + x]);
                }
            }
        }
    }

    [Fact]
    public void Apply_ManySeeds_PairsWithinKindAndTargetsSumToOne()
    {
        var batch = Batch();
        var mixer = new BatchMixer(new DistillationAugmentOptions { MixUp = true, CutMix = true });
        var kinds = new HashSet<string>();

        for (var seed = 0UL; seed < 40; seed++)
        {
            var mix = mixer.Apply(batch, seed).Mix!;
            kinds.Add(mix.Kind);
            for (var i = 0; i < batch.Count; i++)
            {
                Assert.Equal(batch.Labels[i] >= 0, batch.Labels[mix.Partner[i]] >= 0);
                // The mixed hard target lambda * onehot(y_i) + (1 - lambda) * onehot(y_j) is a distribution.
                var target = new double[Classes];
                if (batch.Labels[i] >= 0)
                {
                    target[batch.Labels[i]] += mix.Lambda;
                    target[batch.Labels[mix.Partner[i]]] += 1 - mix.Lambda;
                    Assert.Equal(1.0, target.Sum(), 12);
                    Assert.Equal(mix.Lambda + (batch.Labels[i] == batch.Labels[mix.Partner[i]] ? 1 - mix.Lambda : 0), target[batch.Labels[i]], 12);
                }
            }
            Assert.Equal(Enumerable.Range(0, batch.Count), mix.Partner.Order()); // a permutation
        }
        Assert.Equal([BatchMix.CutMix, BatchMix.MixUp], kinds.Order());
    }

    [Fact]
    public void Apply_SameSeed_SameMix_OtherSeedDiffers()
    {
        var mixer = new BatchMixer(new DistillationAugmentOptions { MixUp = true, CutMix = true, MixUpAlpha = 1.0 });

        var first = mixer.Apply(Batch(), 7);
        var again = mixer.Apply(Batch(), 7);
        var other = mixer.Apply(Batch(), 8);

        Assert.Equal(first.Pixels, again.Pixels);
        Assert.Equal(first.Mix!.Partner, again.Mix!.Partner);
        Assert.Equal(first.Mix.Lambda, again.Mix.Lambda);
        Assert.NotEqual(first.Pixels, other.Pixels);
    }

    [Fact]
    public void Apply_ProbabilityZeroPointThree_MixesAboutThatShareOfBatches()
    {
        var mixer = new BatchMixer(new DistillationAugmentOptions { MixUp = true, Probability = 0.3 });
        var batch = Batch(withTeacher: false);

        var mixed = Enumerable.Range(0, 400).Count(seed => mixer.Apply(batch, (ulong)seed).Mix is not null);

        Assert.InRange(mixed, 90, 150);
    }

    [Fact]
    public void NextBeta_AlphaPointTwo_MeanHalfAndMostMassNearTheEnds()
    {
        var draws = new SeededDraws(3);

        var values = Enumerable.Range(0, 4000).Select(_ => draws.NextBeta(0.2, 0.2)).ToArray();

        Assert.All(values, v => Assert.InRange(v, 0.0, 1.0));
        Assert.InRange(values.Average(), 0.47, 0.53);
        // Beta(0.2, 0.2): P(x < 0.1 or x > 0.9) is about 0.62; a uniform would give 0.2.
        Assert.InRange(values.Count(v => v < 0.1 || v > 0.9) / 4000.0, 0.55, 0.7);
    }
}
