namespace KdData.Augmentation;

/// <summary>
/// MixUp and CutMix on an assembled batch, drawn from a per-batch seed (so a resumed epoch replays the same mixes).
/// </summary>
/// <remarks>
/// <para>Pairing: rows are paired within their kind (labeled with labeled, pseudo-labeled with pseudo-labeled) by a
/// seeded permutation, so a mixed row keeps a ground-truth label exactly when it had one and its hard target is the
/// same mix of two labels (soft-label CE, <c>lambda * CE(y_a) + (1 - lambda) * CE(y_b)</c>), while a pool row's only
/// target stays the teacher's. Mixing a labeled with a pool image would leave the row with half a label.</para>
/// <para>MixUp (Zhang et al. 2018, "mixup: Beyond Empirical Risk Minimization"): <c>lambda ~ Beta(alpha, alpha)</c>,
/// <c>x_i = lambda * x_i + (1 - lambda) * x_partner(i)</c> on the normalised pixels (normalisation is affine, so this
/// equals mixing raw pixels).</para>
/// <para>CutMix (Yun et al. 2019, "CutMix: Regularization Strategy to Train Strong Classifiers with Localizable
/// Features"): <c>lambda0 ~ Beta(alpha, alpha)</c>, a box of <c>W sqrt(1 - lambda0)</c> x <c>H sqrt(1 - lambda0)</c>
/// pixels centred uniformly at random and clipped to the image; the partner's pixels fill the box, and lambda is
/// corrected to the area actually pasted: <c>lambda = 1 - (box width * box height) / (W * H)</c>.</para>
/// </remarks>
public sealed class BatchMixer
{
    private readonly DistillationAugmentOptions _options;

    /// <exception cref="ArgumentException">Neither MixUp nor CutMix is on.</exception>
    public BatchMixer(DistillationAugmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Mixes)
        {
            throw new ArgumentException("BatchMixer needs MixUp or CutMix on with a positive probability.", nameof(options));
        }
        _options = options;
    }

    /// <summary>
    /// The mixed pixels of a batch (<paramref name="labels"/>: one per row, -1 for a pool row) and how they were mixed,
    /// or null when the draw for <paramref name="seed"/> leaves the batch unmixed or it has a single row. The training
    /// side's <c>LabeledBatchMixing.Apply</c> puts the result into a <c>LabeledBatch</c>.
    /// </summary>
    public (float[] Pixels, BatchMix Mix)? Mix(float[] source, long[] labels, int channels, int height, int width, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(labels);
        var count = labels.Length;
        var draws = new SeededDraws(seed);
        if (count < 2 || draws.NextDouble() >= _options.Probability)
        {
            return null;
        }

        var cutMix = _options.CutMix && (!_options.MixUp || draws.NextDouble() < 0.5);
        var partner = Pairing(labels, Seeds.Mix(seed, 0x9A17));
        var sample = channels * height * width;
        var pixels = new float[source.Length];
        if (!cutMix)
        {
            var lambda = draws.NextBeta(_options.MixUpAlpha, _options.MixUpAlpha);
            var (own, other) = ((float)lambda, (float)(1 - lambda));
            for (var i = 0; i < count; i++)
            {
                var a = i * sample;
                var b = partner[i] * sample;
                for (var k = 0; k < sample; k++)
                {
                    pixels[a + k] = (own * source[a + k]) + (other * source[b + k]);
                }
            }
            return (pixels, new BatchMix(BatchMix.MixUp, lambda, partner, null));
        }

        var box = CutBox(width, height, draws.NextBeta(_options.CutMixAlpha, _options.CutMixAlpha), draws);
        Array.Copy(source, pixels, pixels.Length);
        var plane = height * width;
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                var a = (i * sample) + (c * plane);
                var b = (partner[i] * sample) + (c * plane);
                for (var y = box.Y; y < box.Y + box.Height; y++)
                {
                    Array.Copy(source, b + (y * width) + box.X, pixels, a + (y * width) + box.X, box.Width);
                }
            }
        }
        var pasted = 1.0 - ((double)box.Width * box.Height / plane);
        return (pixels, new BatchMix(BatchMix.CutMix, pasted, partner, box));
    }

    /// <summary>A seeded permutation within each kind of row (label &gt;= 0, label -1): row i's partner.</summary>
    internal static int[] Pairing(long[] labels, ulong seed)
    {
        var partner = new int[labels.Length];
        foreach (var (kind, group) in new[] { (0UL, labels.Select((l, i) => (l, i)).Where(p => p.l >= 0).Select(p => p.i).ToArray()), (1UL, labels.Select((l, i) => (l, i)).Where(p => p.l < 0).Select(p => p.i).ToArray()) })
        {
            var order = Seeds.Permutation(group.Length, Seeds.Mix(seed, kind));
            for (var k = 0; k < group.Length; k++)
            {
                partner[group[k]] = group[order[k]];
            }
        }
        return partner;
    }

    /// <summary>CutMix's box for a drawn <paramref name="lambda0"/>: side ratio <c>sqrt(1 - lambda0)</c>, uniform centre, clipped.</summary>
    internal static (int X, int Y, int Width, int Height) CutBox(int width, int height, double lambda0, SeededDraws draws)
    {
        var ratio = Math.Sqrt(1.0 - lambda0);
        var cutWidth = (int)(width * ratio);
        var cutHeight = (int)(height * ratio);
        var cx = draws.NextInt(width);
        var cy = draws.NextInt(height);
        var x0 = Math.Clamp(cx - (cutWidth / 2), 0, width);
        var y0 = Math.Clamp(cy - (cutHeight / 2), 0, height);
        var x1 = Math.Clamp(cx + (cutWidth / 2), 0, width);
        var y1 = Math.Clamp(cy + (cutHeight / 2), 0, height);
        return (x0, y0, x1 - x0, y1 - y0);
    }
}
