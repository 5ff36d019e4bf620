using System.Diagnostics;
using KdData.Augmentation;
using KdData.Imaging;
using KdData.Storage;
using KdData.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Distillation;

/// <summary>
/// Batches that mix labeled and pseudo-labeled images for offline distillation, through the same bounded-channel
/// <see cref="OrderedBatchPipeline"/> as supervised training: plan (seeded per epoch) -> fetch bytes (N concurrent,
/// via <see cref="ImageByteCache"/>) -> decode, replay the cached view's crop box and flip exactly, augment only in
/// target-preserving ways (M workers) -> in-order batches carrying each sample's label (-1 for pool images) and the
/// teacher's dense logits (<see cref="SoftTargets.SoftTarget.DenseLogits"/>).
/// <para>
/// Augmentation: a sample with cached views draws one view per epoch (seeded by epoch and image), replayed exactly,
/// and is otherwise left alone (optionally mirrored, see <see cref="DistillationMixOptions.MirrorPseudoLabeled"/>, or
/// shifted and flipped as the supervised stage does, see <see cref="DistillationMixOptions.JitterViews"/>);
/// a labeled image the teacher never saw gets the supervised stage's padded random crop and flip. Optionally
/// (<see cref="DistillationAugmentOptions"/>) every image then gets RandAugment and every batch MixUp or CutMix
/// (<see cref="BatchMixer"/>); the batch then carries <see cref="LabeledBatch.Mix"/> and the objective mixes targets.
/// </para>
/// Memory holds the sample list (a few hundred bytes per image) and a few hundred decoded images in flight,
/// independent of how many shards the samples came from; plus, up to <see cref="TrainingDataOptions.HoldDecodedMegabytes"/>,
/// decoded images kept after their first decode (first come, first kept), so later epochs only crop and augment them,
/// and each cached view's rendered crop as 8-bit levels, so a view drawn again is looked up, not resampled.
/// Dispose it to free those at once rather than at finalization.
/// </summary>
public sealed class DistillationData : ITrainingData, IDisposable
{
    // What FetchAsync hands on for an image that is held: nothing to read (compared by reference).
    private static readonly byte[] HeldMarker = new byte[1];

    private readonly IReadOnlyList<ImageByteCache> _sources;
    private readonly IReadOnlyList<DistillationSample> _labeled;
    private readonly IReadOnlyList<DistillationSample> _pseudo;
    private readonly int _classes;
    private readonly ImageDecoder _decoder;
    private readonly ImagePreprocessor _preprocessor;
    private readonly PaddedCropAugmentation? _augmentation;
    private readonly RandAugment? _randAugment;
    private readonly StrongView? _strongPool;
    private readonly BatchMixer? _mixer;
    private readonly OrderedBatchPipeline _pipeline;
    private readonly DistillationMixOptions _mix;
    private readonly int _batchSize;
    private readonly ulong _seed;
    private readonly ILogger _logger;
    private readonly bool _onlineTeacher;
    private readonly DecodedImage?[] _held;
    // Rendered views as 8-bit levels (ImagePreprocessor.PreprocessLevels), by sample id, then view index: a crop box
    // is resampled once, and later epochs only look its levels up. Counted in the same budget as _held.
    private readonly byte[]?[]?[] _heldViews;
    private readonly long _holdLimitBytes;
    private long _heldBytes;
    private int _heldCount;
    private int _heldViewCount;
    private long _skipped;

    /// <param name="sources">Image stores; <see cref="DistillationSample.Source"/> indexes them.</param>
    /// <param name="labeled">Labeled images (label &gt;= 0), with or without cached teacher views.</param>
    /// <param name="pseudo">Pseudo-labeled images (label -1, at least one view each unless <paramref name="onlineTeacher"/>).</param>
    /// <param name="classes">C, the length of a teacher logit row.</param>
    /// <param name="imageOptions">Decoding and preprocessing (must match the teacher's, checked by the caller).</param>
    /// <param name="dataOptions">Pipeline concurrency and the supervised augmentation for labeled images without views.</param>
    /// <param name="mix">Batch composition.</param>
    /// <param name="batchSize">B, images per batch.</param>
    /// <param name="seed">Seed of the plan, the view draws and the augmentation.</param>
    /// <param name="logger">Where skipped images are reported.</param>
    /// <param name="onlineTeacher">
    /// The training loop runs a teacher on every batch (online distillation): pool images need no cached view and
    /// get the same padded crop and flip as labeled images (the teacher labels the augmented pixels, so any
    /// augmentation preserves the target); batches carry no teacher logits for them.
    /// </param>
    /// <param name="augment">RandAugment per image and MixUp / CutMix per batch (see <see cref="DistillationAugmentOptions"/>). Default: none.</param>
    /// <exception cref="ArgumentException">Both sets are empty, or a sample contradicts its set.</exception>
    public DistillationData(
        IReadOnlyList<ImageByteCache> sources,
        IReadOnlyList<DistillationSample> labeled,
        IReadOnlyList<DistillationSample> pseudo,
        int classes,
        ImageOptions imageOptions,
        TrainingDataOptions dataOptions,
        DistillationMixOptions mix,
        int batchSize,
        ulong seed,
        ILogger? logger = null,
        bool onlineTeacher = false,
        DistillationAugmentOptions? augment = null)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(labeled);
        ArgumentNullException.ThrowIfNull(pseudo);
        ArgumentNullException.ThrowIfNull(imageOptions);
        ArgumentNullException.ThrowIfNull(dataOptions);
        ArgumentNullException.ThrowIfNull(mix);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (labeled.Count + pseudo.Count == 0)
        {
            throw new ArgumentException("Distillation needs at least one labeled or pseudo-labeled image.", nameof(labeled));
        }
        if (labeled.FirstOrDefault(s => s.IsPseudoLabeled) is { } unlabeled)
        {
            throw new ArgumentException($"Image '{unlabeled.Key}' is in the labeled set without a label.", nameof(labeled));
        }
        if (pseudo.FirstOrDefault(s => !s.IsPseudoLabeled || (s.Views.Count == 0 && !onlineTeacher)) is { } bad)
        {
            throw new ArgumentException($"Image '{bad.Key}' is in the pseudo-labeled set with a label or without a teacher view.", nameof(pseudo));
        }
        _sources = sources;
        _labeled = labeled;
        _pseudo = pseudo;
        _classes = classes;
        _decoder = new ImageDecoder(imageOptions);
        _preprocessor = new ImagePreprocessor(imageOptions);
        _pipeline = new OrderedBatchPipeline(dataOptions);
        _mix = mix;
        _batchSize = batchSize;
        _seed = seed;
        _logger = logger ?? NullLogger.Instance;
        _onlineTeacher = onlineTeacher;
        _holdLimitBytes = (long)dataOptions.HoldDecodedMegabytes * 1024 * 1024;
        _held = new DecodedImage?[_holdLimitBytes > 0 ? labeled.Count + pseudo.Count : 0];
        _heldViews = new byte[]?[]?[_held.Length];
        (LabeledPerBatch, PseudoPerBatch) = Split(batchSize, labeled.Count, pseudo.Count, mix.UnlabeledRatio);
        BatchesPerEpoch = Math.Max(
            LabeledPerBatch > 0 ? (labeled.Count + LabeledPerBatch - 1) / LabeledPerBatch : 0,
            PseudoPerBatch > 0 ? (pseudo.Count + PseudoPerBatch - 1) / PseudoPerBatch : 0);
        var mean = imageOptions.GetEffectiveMean();
        var std = imageOptions.GetEffectiveStd();
        // What a black pixel normalises to: the fill of shifted-in borders and of Cutout's square.
        float[] black = [.. mean.Select((m, c) => -m / std[c])];
        if (dataOptions.CropPadding > 0 || dataOptions.HorizontalFlip)
        {
            _augmentation = new PaddedCropAugmentation(dataOptions.CropPadding, dataOptions.HorizontalFlip, black);
        }
        if (augment?.StrongPool == true)
        {
            if (!onlineTeacher)
            {
                throw new ArgumentException("Strong pool views need an online teacher to label the weak view.", nameof(augment));
            }
            _strongPool = new StrongView(
                new RandAugment(augment.RandAugmentOps, augment.RandAugmentMagnitude, mean, std),
                new Cutout(augment.Cutout, black));
        }
        if (augment?.RandAugment == true)
        {
            _randAugment = new RandAugment(augment.RandAugmentOps, augment.RandAugmentMagnitude, mean, std);
        }
        if (augment?.Mixes == true)
        {
            _mixer = new BatchMixer(augment);
        }
    }

    /// <inheritdoc />
    public int BatchesPerEpoch { get; }

    /// <summary>Labeled images in every batch (L).</summary>
    public int LabeledPerBatch { get; }

    /// <summary>Pseudo-labeled images in every batch (B - L).</summary>
    public int PseudoPerBatch { get; }

    /// <summary>Images skipped so far because they could not be read or decoded.</summary>
    public long SkippedImages => Interlocked.Read(ref _skipped);

    /// <summary>Decoded images held in memory for later epochs.</summary>
    public int HeldImages => Volatile.Read(ref _heldCount);

    /// <summary>Rendered teacher views held in memory as 8-bit levels, so later epochs need not resample their crops.</summary>
    public int HeldViews => Volatile.Read(ref _heldViewCount);

    /// <summary>
    /// The composition rule: <c>L = round(B / (1 + mu))</c>, at least one of each kind when both sets are non-empty
    /// and B &gt; 1; mu defaults to the sets' ratio.
    /// </summary>
    public static (int Labeled, int Pseudo) Split(int batchSize, int labeled, int pseudo, double? unlabeledRatio)
    {
        if (pseudo == 0)
        {
            return (batchSize, 0);
        }
        if (labeled == 0)
        {
            return (0, batchSize);
        }
        var mu = unlabeledRatio ?? ((double)pseudo / labeled);
        var l = (int)Math.Round(batchSize / (1 + mu), MidpointRounding.AwayFromZero);
        if (batchSize > 1)
        {
            l = Math.Clamp(l, mu > 0 ? 1 : batchSize, mu > 0 ? batchSize - 1 : batchSize);
        }
        return (l, batchSize - l);
    }

    /// <summary>
    /// The epoch's plan: for each step, L labeled then B - L pseudo-labeled references, each set drawn from
    /// successive seeded permutations (the smaller set cycles). Deterministic per (seed, epoch).
    /// </summary>
    public IReadOnlyList<(bool Pseudo, int Index)> PlanEpoch(int epoch)
    {
        var epochSeed = Seeds.Mix(_seed, (ulong)epoch);
        var labeled = new CyclingOrder(_labeled.Count, Seeds.Mix(epochSeed, 1));
        var pseudo = new CyclingOrder(_pseudo.Count, Seeds.Mix(epochSeed, 2));
        var plan = new List<(bool, int)>(BatchesPerEpoch * _batchSize);
        for (var step = 0; step < BatchesPerEpoch; step++)
        {
            for (var i = 0; i < LabeledPerBatch; i++)
            {
                plan.Add((false, labeled.Next()));
            }
            for (var i = 0; i < PseudoPerBatch; i++)
            {
                plan.Add((true, pseudo.Next()));
            }
        }
        return plan;
    }

    /// <inheritdoc />
    public IAsyncEnumerable<LabeledBatch> ReadEpochAsync(int epoch, CancellationToken cancellationToken = default)
    {
        var epochSeed = Seeds.Mix(_seed, (ulong)epoch);
        var plan = PlanEpoch(epoch);
        var positions = Enumerable.Range(0, plan.Count).ToArray();
        return _pipeline.RunAsync(
            positions,
            _batchSize,
            (position, ct) => FetchAsync(plan[position], ct),
            (position, bytes) => Decode(plan[position], bytes, Seeds.Mix(epochSeed, (ulong)position)) is { } decoded
                ? decoded with { Id = SampleId(plan[position]) }
                : null,
            Assemble,
            cancellationToken);
    }

    /// <summary>A sample's stable id: its index in the labeled set, or the labeled count plus its index in the pool.</summary>
    private long SampleId((bool Pseudo, int Index) reference) => reference.Pseudo ? _labeled.Count + (long)reference.Index : reference.Index;

    private DistillationSample Sample((bool Pseudo, int Index) reference) =>
        reference.Pseudo ? _pseudo[reference.Index] : _labeled[reference.Index];

    private DistillationSample Sample(long id) => id < _labeled.Count ? _labeled[(int)id] : _pseudo[(int)(id - _labeled.Count)];

    private async ValueTask<byte[]?> FetchAsync((bool Pseudo, int Index) reference, CancellationToken cancellationToken)
    {
        if (_held.Length > 0 && Volatile.Read(ref _held[SampleId(reference)]) is not null)
        {
            return HeldMarker;
        }
        var sample = Sample(reference);
        try
        {
            return await _sources[sample.Source].GetAsync(sample.Key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException)
        {
            return null; // labeled or pseudo-labeled once, gone from the store now: skipped, not fatal
        }
    }

    private Decoded? Decode((bool Pseudo, int Index) reference, byte[]? bytes, ulong drawSeed)
    {
        var sample = Sample(reference);
        if (bytes is null)
        {
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping distillation image {Key}: missing from its store", sample.Key);
            return null;
        }

        DecodedImage? decoded = null;
        try
        {
            var image = ReferenceEquals(bytes, HeldMarker) ? _held[SampleId(reference)]! : decoded = _decoder.Decode(bytes, sample.Key);
            var result = Prepare(SampleId(reference), sample, image, drawSeed);
            if (decoded is not null && Hold(SampleId(reference), decoded))
            {
                decoded = null; // kept for later epochs
            }
            return result;
        }
        catch (ImageDecodeException e)
        {
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping distillation image {Key}: {Reason} ({Detail})", e.Key, e.Reason, e.Detail);
            return null;
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A cached crop box that does not fit the image: the object changed since the teacher saw it.
            Interlocked.Increment(ref _skipped);
            _logger.LogWarning("Skipping distillation image {Key}: its cached view does not fit ({Detail})", sample.Key, e.Message);
            return null;
        }
        finally
        {
            decoded?.Dispose();
        }
    }

    // Keeps a decoded image while the budget lasts; the image is then read by several epochs' workers (reads only).
    private bool Hold(long id, DecodedImage image)
    {
        if (_held.Length == 0)
        {
            return false;
        }
        var bytes = (long)image.Width * image.Height * 4;
        if (Interlocked.Add(ref _heldBytes, bytes) > _holdLimitBytes || Interlocked.CompareExchange(ref _held[id], image, null) is not null)
        {
            Interlocked.Add(ref _heldBytes, -bytes);
            return false;
        }
        Interlocked.Increment(ref _heldCount);
        return true;
    }

    private Decoded Prepare(long id, DistillationSample sample, DecodedImage image, ulong drawSeed)
    {
        {
            var size = _preprocessor.OutputSize;
            if (sample.Views.Count == 0)
            {
                var plain = _preprocessor.Preprocess(image);
                var pixels = _augmentation?.Apply(plain, _preprocessor.Channels, size, size, drawSeed) ?? plain;
                if (_strongPool is { } strong && sample.IsPseudoLabeled)
                {
                    // FixMatch: the teacher labels the weak view; the student sees another crop, strongly augmented.
                    var strongSeed = Seeds.Mix(drawSeed, 0x57F0);
                    var crop = _augmentation?.Apply(plain, _preprocessor.Channels, size, size, strongSeed) ?? plain;
                    var strongPixels = strong.Apply(crop, _preprocessor.Channels, size, strongSeed);
                    return new Decoded(strongPixels, sample.Label, null, drawSeed) { TeacherPixels = pixels };
                }
                return new Decoded(RandAugmented(pixels, drawSeed), sample.Label, null, drawSeed);
            }

            var viewIndex = (int)(drawSeed % (ulong)sample.Views.Count);
            var view = sample.Views[viewIndex];
            var mirror = sample.IsPseudoLabeled && _mix.MirrorPseudoLabeled && !_mix.JitterViews && (Seeds.Mix(drawSeed, 3) & 1) == 1;
            // Exactly the teacher's view: its crop box and its flip; a mirror or a jitter on top changes those pixels.
            var viewPixels = ViewPixels(id, viewIndex, view, image);
            if (mirror)
            {
                MirrorInPlace(viewPixels, _preprocessor.Channels, size);
            }
            if (_mix.JitterViews && _augmentation is { } jitter)
            {
                viewPixels = jitter.Apply(viewPixels, _preprocessor.Channels, size, size, Seeds.Mix(drawSeed, 0x717E));
            }
            var logits = new float[_classes];
            view.Target.DenseLogits(logits);
            return new Decoded(RandAugmented(viewPixels, drawSeed), sample.Label, logits, drawSeed);
        }
    }

    // The view's normalised pixels: from its held levels, or rendered now (and held while the budget lasts).
    private float[] ViewPixels(long id, int viewIndex, DistillationView view, DecodedImage image)
    {
        if (_heldViews.Length > 0 && Volatile.Read(ref _heldViews[id]) is { } views && Volatile.Read(ref views[viewIndex]) is { } held)
        {
            return _preprocessor.NormaliseLevels(held);
        }
        if (_heldViews.Length == 0 || _preprocessor.PreprocessLevels(image, view.Crop.Box, view.Crop.FlipHorizontal) is not { } levels)
        {
            return _preprocessor.Preprocess(image, view.Crop.Box, view.Crop.FlipHorizontal);
        }
        if (Interlocked.Add(ref _heldBytes, levels.Length) <= _holdLimitBytes)
        {
            var slots = Volatile.Read(ref _heldViews[id]) ?? Interlocked.CompareExchange(ref _heldViews[id], new byte[]?[Sample(id).Views.Count], null)
                ?? _heldViews[id]!;
            if (Interlocked.CompareExchange(ref slots[viewIndex], levels, null) is null)
            {
                Interlocked.Increment(ref _heldViewCount);
                return _preprocessor.NormaliseLevels(levels);
            }
        }
        Interlocked.Add(ref _heldBytes, -levels.Length);
        return _preprocessor.NormaliseLevels(levels);
    }

    // Mirrors every row of a C x S x S payload left-right.
    private static void MirrorInPlace(float[] chw, int channels, int size)
    {
        for (var row = 0; row < channels * size; row++)
        {
            chw.AsSpan(row * size, size).Reverse();
        }
    }

    /// <summary>Frees the held decoded images.</summary>
    public void Dispose()
    {
        for (var i = 0; i < _held.Length; i++)
        {
            Interlocked.Exchange(ref _held[i], null)?.Dispose();
            _heldViews[i] = null;
        }
        _heldCount = 0;
        _heldViewCount = 0;
        _heldBytes = 0;
    }

    private float[] RandAugmented(float[] pixels, ulong drawSeed) =>
        _randAugment?.Apply(pixels, _preprocessor.Channels, _preprocessor.OutputSize, _preprocessor.OutputSize, Seeds.Mix(drawSeed, 0x5A7D)) ?? pixels;

    private LabeledBatch Assemble(List<Decoded> samples)
    {
        var sampleLength = _preprocessor.PayloadLength;
        var pixels = new float[samples.Count * sampleLength];
        var labels = new long[samples.Count];
        var teacher = new float[samples.Count * _classes];
        var hasTeacher = new bool[samples.Count];
        var ids = new long[samples.Count];
        var any = false;
        // With strong pool views, the teacher's view of every sample: the weak view of pool images, the pixels of the rest.
        var teacherPixels = samples.Any(s => s.TeacherPixels is not null) ? new float[pixels.Length] : null;
        for (var i = 0; i < samples.Count; i++)
        {
            samples[i].Pixels.CopyTo(pixels, i * sampleLength);
            if (teacherPixels is not null)
            {
                (samples[i].TeacherPixels ?? samples[i].Pixels).CopyTo(teacherPixels, i * sampleLength);
            }
            labels[i] = samples[i].Label;
            ids[i] = samples[i].Id;
            if (samples[i].TeacherLogits is { } row)
            {
                row.CopyTo(teacher, i * _classes);
                hasTeacher[i] = true;
                any = true;
            }
        }

        var size = _preprocessor.OutputSize;
        var batch = new LabeledBatch(pixels, labels, _preprocessor.Channels, size, size);
        Debug.Assert(any || _onlineTeacher || labels.All(l => l >= 0), "offline, a pseudo-labeled sample always has teacher logits");
        batch = (any ? batch.WithTeacher(teacher, _classes, hasTeacher) : batch).WithSampleIds(ids);
        if (teacherPixels is not null)
        {
            batch = batch.WithTeacherPixels(teacherPixels);
        }
        // The batch's draw derives from its first sample's (seed, epoch, position), so a resumed epoch mixes alike.
        return _mixer is null || samples.Count == 0 ? batch : _mixer.Apply(batch, Seeds.Mix(samples[0].DrawSeed, 0xB47C));
    }

    private sealed record Decoded(float[] Pixels, long Label, float[]? TeacherLogits, ulong DrawSeed)
    {
        public long Id { get; init; }

        /// <summary>The weak view the teacher labels when <see cref="Pixels"/> is a strong one; null = the same view.</summary>
        public float[]? TeacherPixels { get; init; }
    }

    /// <summary>Successive seeded permutations of 0..count-1, so a set smaller than the epoch's demand cycles evenly.</summary>
    private sealed class CyclingOrder(int count, ulong seed)
    {
        private int[] _order = [];
        private int _position;
        private ulong _cycle;

        public int Next()
        {
            if (_position == _order.Length)
            {
                _order = Seeds.Permutation(count, Seeds.Mix(seed, _cycle++));
                _position = 0;
            }
            return _order[_position++];
        }
    }
}
