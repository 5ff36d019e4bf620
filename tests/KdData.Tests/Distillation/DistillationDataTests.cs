using KdData.Datasets;
using KdData.Distillation;
using KdData.Imaging;
using KdData.Training;

namespace KdData.Tests.Distillation;

public sealed class DistillationDataTests(SampleDistillation sample) : IClassFixture<SampleDistillation>
{
    private static readonly TrainingDataOptions Pipeline = new() { DecodeWorkers = 2, ChannelCapacity = 16, PrefetchBatches = 2 };
    private static readonly bool[] NoFlipAndFlip = [false, true];

    [Theory]
    [InlineData(128, 6000, 54000, null, 13, 115)]
    [InlineData(16, 100, 300, 3.0, 4, 12)]
    [InlineData(16, 100, 0, null, 16, 0)]
    [InlineData(16, 0, 50, null, 0, 16)]
    [InlineData(8, 1000, 1, null, 7, 1)]
    public void Split_Sizes_FollowFixMatchRatio(int batch, int labeled, int pseudo, double? mu, int expectedLabeled, int expectedPseudo)
    {
        Assert.Equal((expectedLabeled, expectedPseudo), DistillationData.Split(batch, labeled, pseudo, mu));
    }

    [Fact]
    public void Build_SampleShards_JoinsLabeledSplitAndKeepsPoolAsPseudoLabeled()
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);

        Assert.Equal(sample.Train.Count, samples.Labeled.Count);
        Assert.Equal(0, samples.LabeledWithTeacher); // the Labeler saw only the pool
        Assert.Equal(480, samples.Pseudo.Count);
        Assert.All(samples.Pseudo, s => Assert.Equal(2, s.Views.Count));
        Assert.All(samples.Pseudo, s => Assert.Equal(-1, s.Label));
    }

    [Fact]
    public void Build_SoftTargetsOnTestImages_DropsThemAndJoinsTrainImages()
    {
        // Pretend the pool images are the dataset's test and train images: the join must use them as such.
        var pool = sample.SoftTargets.Rows.Select(r => r.Key).Distinct().Order(StringComparer.Ordinal).ToList();
        var train = pool.Take(10).Select(k => new LabelRecord { Key = "unlabeled/" + k, Label = 3, Split = "train" }).ToList();
        var test = pool.Skip(10).Take(20).Select(k => new LabelRecord { Key = "unlabeled/" + k, Label = 1, Split = "test" }).ToList();

        var samples = DistillationSamples.Build(sample.Dataset, train, test, sample.SoftTargets);

        Assert.Equal(10, samples.LabeledWithTeacher);
        Assert.All(samples.Labeled, s => Assert.Equal(3, s.Label));
        Assert.Equal(20, samples.DroppedHeldOut);
        Assert.Equal(480 - 30, samples.Pseudo.Count);
        Assert.DoesNotContain(samples.Pseudo, s => test.Any(t => t.Key == "unlabeled/" + s.Key));
    }

    [Fact]
    public async Task ReadEpochAsync_ConfiguredRatio_EveryBatchHoldsTheMix()
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        var data = Data(samples, new DistillationMixOptions { UnlabeledRatio = 3 }, batchSize: 16);

        var batches = await data.ReadEpochAsync(1).ToListAsync();

        Assert.Equal(480 / 12, data.BatchesPerEpoch);
        Assert.Equal(data.BatchesPerEpoch, batches.Count);
        foreach (var batch in batches)
        {
            Assert.Equal(4, batch.Labels.Count(l => l >= 0));
            Assert.Equal(12, batch.Labels.Count(l => l < 0));
            Assert.NotNull(batch.TeacherLogits);
            // Teacher rows exist exactly for the pseudo-labeled samples here (the labeled ones have no views).
            Assert.Equal(batch.Labels.Select(l => l < 0), batch.HasTeacher!);
        }
        // Every pool image once per epoch; the 120 labeled images cycle (160 labeled slots).
        Assert.Equal(480, batches.Sum(b => b.Labels.Count(l => l < 0)));
    }

    [Fact]
    public async Task ReadEpochAsync_PseudoLabeledView_ReplaysStoredCropAndTeacherLogits()
    {
        var row = sample.SoftTargets.Rows.First(r => r.View == 1);
        var view = new DistillationView(row.Crop, row.Target);
        var pseudo = new DistillationSample(1, row.Key, -1, [view]);
        var caches = new[] { new ImageByteCache(sample.Dataset, null), new ImageByteCache(sample.SoftTargets.Sources[row.Source].Store, null) };
        var data = new DistillationData(caches, [], [pseudo], sample.Classes.Count, SampleDistillation.ImageOptions, Pipeline, new DistillationMixOptions(), 1, seed: 1);

        var batch = Assert.Single(await data.ReadEpochAsync(1).ToListAsync());

        var bytes = await caches[1].GetAsync(row.Key);
        using var image = new ImageDecoder(SampleDistillation.ImageOptions).Decode(bytes, row.Key);
        var expected = new ImagePreprocessor(SampleDistillation.ImageOptions).Preprocess(image, row.Crop.Box, row.Crop.FlipHorizontal);
        Assert.Equal(expected, batch.Pixels);
        var logits = new float[sample.Classes.Count];
        row.Target.DenseLogits(logits);
        Assert.Equal(logits, batch.TeacherLogits!);
        Assert.Equal(-1, Assert.Single(batch.Labels));
        // A real crop of a view, not the whole image (the Labeler drew it with scale >= 0.64 of the area).
        Assert.True(row.Crop.Box.Width * row.Crop.Box.Height < 28 * 28 || row.Crop.FlipHorizontal);
    }

    [Fact]
    public async Task ReadEpochAsync_SameEpochTwice_SameBatches()
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        var data = Data(samples, new DistillationMixOptions(), batchSize: 32);

        var first = await data.ReadEpochAsync(2).ToListAsync();
        var second = await data.ReadEpochAsync(2).ToListAsync();
        var other = await data.ReadEpochAsync(3).ToListAsync();

        Assert.Equal(first.SelectMany(b => b.Pixels), second.SelectMany(b => b.Pixels));
        Assert.Equal(first.SelectMany(b => b.Labels), second.SelectMany(b => b.Labels));
        Assert.NotEqual(first.SelectMany(b => b.Pixels), other.SelectMany(b => b.Pixels));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(1)]
    public async Task ReadEpochAsync_HoldingDecodedImages_SameBatchesAsDecodingEveryEpoch(int holdMegabytes)
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        var mix = new DistillationMixOptions { MirrorPseudoLabeled = true };
        using var reference = Data(samples, mix, batchSize: 32, holdMegabytes: 0);
        using var held = Data(samples, mix, batchSize: 32, holdMegabytes: holdMegabytes);

        foreach (var epoch in new[] { 1, 2, 3 })
        {
            var want = await reference.ReadEpochAsync(epoch).ToListAsync();
            var got = await held.ReadEpochAsync(epoch).ToListAsync();

            Assert.Equal(want.SelectMany(b => b.Pixels), got.SelectMany(b => b.Pixels));
            Assert.Equal(want.SelectMany(b => b.Labels), got.SelectMany(b => b.Labels));
            Assert.Equal(want.SelectMany(b => b.TeacherLogits ?? []), got.SelectMany(b => b.TeacherLogits ?? []));
        }
        Assert.Equal(0, reference.HeldImages);
        Assert.Equal(0, reference.HeldViews);
        var all = samples.Labeled.Count + samples.Pseudo.Count;
        var views = samples.Labeled.Concat(samples.Pseudo).Sum(x => x.Views.Count);
        Assert.True(views > 0, "the sample's soft targets have views");
        // A held image is 28x28 RGBA (3,136 bytes), a held view its 28x28 levels (784 bytes), in one budget.
        var heldBytes = (held.HeldImages * 28 * 28 * 4) + (held.HeldViews * 28 * 28);
        if (holdMegabytes == 1)
        {
            Assert.InRange(heldBytes, (1024 * 1024) - (28 * 28 * 4), 1024 * 1024);
        }
        else
        {
            // 1 GiB holds every image, and every view the three epochs drew.
            Assert.Equal(all, held.HeldImages);
            Assert.InRange(held.HeldViews, 1, views);
        }
    }

    [Fact]
    public async Task ReadEpochAsync_JitterViews_ShiftsAndFlipsEachViewKeepingItsTarget()
    {
        var samples = DistillationSamples.Build(sample.Dataset, sample.Train, sample.Test, sample.SoftTargets);
        using var exact = Data(samples, new DistillationMixOptions(), batchSize: 32);
        using var jittered = Data(samples, new DistillationMixOptions { JitterViews = true, MirrorPseudoLabeled = true }, batchSize: 32);

        var want = await exact.ReadEpochAsync(1).ToListAsync();
        var got = await jittered.ReadEpochAsync(1).ToListAsync();

        Assert.Equal(want.SelectMany(b => b.Labels), got.SelectMany(b => b.Labels));
        Assert.Equal(want.SelectMany(b => b.TeacherLogits ?? []), got.SelectMany(b => b.TeacherLogits ?? []));
        var (views, shifted, flipped) = (0, 0, 0);
        foreach (var (w, g) in want.Zip(got))
        {
            var size = w.Channels * w.Height * w.Width;
            for (var i = 0; i < w.Count; i++)
            {
                var before = w.Pixels.AsSpan(i * size, size).ToArray();
                var after = g.Pixels.AsSpan(i * size, size).ToArray();
                if (w.HasTeacher?[i] != true)
                {
                    // A labeled image without a view: the padded crop it always had, the same draw.
                    Assert.Equal(before, after);
                    continue;
                }
                views++;
                // Some shift of up to CropPadding (2) pixels, then perhaps a flip, of the exact view gives these pixels.
                Assert.Equal(1, w.Channels);
                var fill = -SampleDistillation.ImageOptions.GetEffectiveMean()[0] / SampleDistillation.ImageOptions.GetEffectiveStd()[0];
                var match = (from dx in Enumerable.Range(-2, 5)
                             from dy in Enumerable.Range(-2, 5)
                             from flip in NoFlipAndFlip
                             where Shifted(before, w.Width, w.Height, dx, dy, flip, fill).SequenceEqual(after)
                             select (dx, dy, flip)).ToList();
                Assert.True(match.Count > 0, $"row {i}: not a shift and flip of its view");
                shifted += match.All(m => m.dx != 0 || m.dy != 0) ? 1 : 0;
                flipped += match.All(m => m.flip) ? 1 : 0;
            }
        }
        Assert.True(views > 100, $"{views} rows with views");
        Assert.InRange(shifted, views / 2, views);
        Assert.InRange(flipped, views / 4, 3 * views / 4);
    }

    // A one-channel image shifted as PaddedCropAugmentation shifts it (output (x, y) shows source (x + dx, y + dy),
    // outside filled), then mirrored.
    private static float[] Shifted(float[] image, int width, int height, int dx, int dy, bool flip, float fill)
    {
        var output = new float[image.Length];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var (sx, sy) = (x + dx, y + dy);
                output[(y * width) + (flip ? width - 1 - x : x)] = sx >= 0 && sx < width && sy >= 0 && sy < height ? image[(sy * width) + sx] : fill;
            }
        }
        return output;
    }

    private DistillationData Data(DistillationSamples samples, DistillationMixOptions mix, int batchSize, int holdMegabytes = 1024) =>
        new(
            [.. samples.Stores.Select(s => new ImageByteCache(s, null))],
            samples.Labeled,
            samples.Pseudo,
            sample.Classes.Count,
            SampleDistillation.ImageOptions,
            new TrainingDataOptions { DecodeWorkers = Pipeline.DecodeWorkers, ChannelCapacity = Pipeline.ChannelCapacity, PrefetchBatches = Pipeline.PrefetchBatches, HoldDecodedMegabytes = holdMegabytes },
            mix,
            batchSize,
            seed: 5);
}
