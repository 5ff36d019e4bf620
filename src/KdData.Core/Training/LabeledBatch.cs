using KdData.Augmentation;
using KdData.Models;

namespace KdData.Training;

/// <summary>
/// A batch of images ready for a network: <see cref="Pixels"/> holds <see cref="Count"/> samples of
/// <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/> floats each (CHW per sample, already
/// preprocessed), <see cref="Labels"/> the class index of each sample (<c>-1</c> for a pseudo-labeled sample with no
/// ground truth) and, for distillation, <see cref="TeacherLogits"/>: the teacher's (dense) logits of the samples
/// that have them.
/// </summary>
public sealed class LabeledBatch
{
    /// <exception cref="ArgumentException">The array lengths do not match the stated shape.</exception>
    public LabeledBatch(float[] pixels, long[] labels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var sampleSize = (long)channels * height * width;
        if (pixels.LongLength != labels.LongLength * sampleSize)
        {
            throw new ArgumentException(
                $"Batch pixels hold {pixels.LongLength} values but {labels.LongLength} labels of {channels}x{height}x{width} need {labels.LongLength * sampleSize}.",
                nameof(pixels));
        }
        foreach (var label in labels)
        {
            if (label < -1)
            {
                throw new ArgumentException($"Label {label} is invalid; labels are class indices or -1 (no label).", nameof(labels));
            }
        }
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>N*C*H*W values, sample-major, CHW within a sample.</summary>
#pragma warning disable CA1819 // The batch is a plain buffer handed to a tensor; copying it would defeat the point.
    public float[] Pixels { get; }

    /// <summary>Class index of each sample, length <see cref="Count"/>.</summary>
    public long[] Labels { get; }

    /// <summary>
    /// Teacher logits, N*<see cref="TeacherClasses"/> values (row-major), or null when no sample has any. Rows of samples
    /// whose <see cref="HasTeacher"/> entry is false are ignored (any finite value).
    /// </summary>
    public float[]? TeacherLogits { get; private init; }

    /// <summary>Per sample: whether its <see cref="TeacherLogits"/> row is real. Null with logits means all are.</summary>
    public bool[]? HasTeacher { get; private init; }
#pragma warning restore CA1819

    /// <summary>
    /// A stable id per sample (the same image has the same id in every epoch), or null when the source has none; read by
    /// losses that keep per-image state (the CRD memory bank).
    /// </summary>
#pragma warning disable CA1819 // Same reason as Pixels.
    public long[]? SampleIds { get; private init; }
#pragma warning restore CA1819

    /// <summary>Classes per teacher row (C); 0 without teacher logits.</summary>
    public int TeacherClasses { get; private init; }

    /// <summary>A copy of this batch's references with teacher logits attached (validated against N).</summary>
    /// <exception cref="ArgumentException">The lengths do not match N.</exception>
    public LabeledBatch WithTeacher(float[] logits, int classes, bool[]? hasTeacher = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (logits.LongLength != (long)Count * classes)
        {
            throw new ArgumentException($"Teacher logits hold {logits.LongLength} values but {Count} samples of {classes} classes need {(long)Count * classes}.", nameof(logits));
        }
        if (hasTeacher is not null && hasTeacher.Length != Count)
        {
            throw new ArgumentException($"HasTeacher has {hasTeacher.Length} entries for {Count} samples.", nameof(hasTeacher));
        }
        return new LabeledBatch(Pixels, Labels, Channels, Height, Width)
        {
            TeacherLogits = logits, TeacherClasses = classes, HasTeacher = hasTeacher, Mix = Mix, SampleIds = SampleIds, TeacherPixels = TeacherPixels,
        };
    }

    /// <summary>
    /// How the pixels were mixed (MixUp / CutMix), or null when they were not. Labels and teacher rows are still each
    /// row's own sample's; the objective mixes the targets with the same weights.
    /// </summary>
    public BatchMix? Mix { get; private init; }

    /// <summary>A copy of this batch with <paramref name="pixels"/> (the mixed images) and <paramref name="mix"/> describing them.</summary>
    /// <exception cref="ArgumentException">The pixels or the partner list do not match the batch.</exception>
    public LabeledBatch WithMix(float[] pixels, BatchMix mix)
    {
        ArgumentNullException.ThrowIfNull(mix);
        if (mix.Partner.Length != Count || mix.Partner.Any(p => p < 0 || p >= Count))
        {
            throw new ArgumentException($"A mix of {Count} samples needs one partner row in [0, {Count}) per sample.", nameof(mix));
        }
        if (!(mix.Lambda >= 0 && mix.Lambda <= 1))
        {
            throw new ArgumentException($"The mixing weight {mix.Lambda} is outside [0, 1].", nameof(mix));
        }
        if (TeacherPixels is not null)
        {
            throw new InvalidOperationException("A batch with a separate teacher view cannot be mixed (MixUp / CutMix): a mixed image has no single view to label.");
        }
        return new LabeledBatch(pixels, Labels, Channels, Height, Width)
        {
            TeacherLogits = TeacherLogits,
            TeacherClasses = TeacherClasses,
            HasTeacher = HasTeacher,
            Mix = mix,
            SampleIds = SampleIds,
        };
    }

    /// <summary>A copy of this batch's references with sample ids attached (one per sample).</summary>
    /// <exception cref="ArgumentException">The length does not match N.</exception>
    public LabeledBatch WithSampleIds(long[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Length != Count)
        {
            throw new ArgumentException($"{ids.Length} sample ids for {Count} samples.", nameof(ids));
        }
        return new LabeledBatch(Pixels, Labels, Channels, Height, Width)
        {
            TeacherLogits = TeacherLogits, TeacherClasses = TeacherClasses, HasTeacher = HasTeacher, SampleIds = ids, Mix = Mix, TeacherPixels = TeacherPixels,
        };
    }

    /// <summary>
    /// The view an online teacher labels, per sample (the same N*C*H*W layout as <see cref="Pixels"/>), or null when it
    /// labels <see cref="Pixels"/> themselves. FixMatch's consistency training sets it: the teacher labels a pool image's
    /// weak view while the student learns from its strong view (see <c>DistillationAugmentOptions.StrongPool</c>).
    /// </summary>
#pragma warning disable CA1819 // Same reason as Pixels.
    public float[]? TeacherPixels { get; private init; }
#pragma warning restore CA1819

    /// <summary>A copy of this batch's references with the teacher's view attached.</summary>
    /// <exception cref="ArgumentException">The length does not match the pixels'.</exception>
    /// <exception cref="InvalidOperationException">The batch is mixed: a mixed image has no single view to label.</exception>
    public LabeledBatch WithTeacherPixels(float[] teacherPixels)
    {
        ArgumentNullException.ThrowIfNull(teacherPixels);
        if (teacherPixels.LongLength != Pixels.LongLength)
        {
            throw new ArgumentException($"Teacher pixels hold {teacherPixels.LongLength} values but the batch's pixels {Pixels.LongLength}.", nameof(teacherPixels));
        }
        if (Mix is not null)
        {
            throw new InvalidOperationException("A mixed (MixUp / CutMix) batch cannot have a separate teacher view.");
        }
        return new LabeledBatch(Pixels, Labels, Channels, Height, Width)
        {
            TeacherLogits = TeacherLogits, TeacherClasses = TeacherClasses, HasTeacher = HasTeacher, SampleIds = SampleIds, TeacherPixels = teacherPixels,
        };
    }

    /// <summary>
    /// Checks that this batch fits <paramref name="architecture"/>: its channels, its labels (no <c>-1</c> in an
    /// evaluation batch, whose accuracy needs ground truth) and its teacher rows' classes.
    /// </summary>
    /// <param name="architecture">The model the batch is for.</param>
    /// <param name="source"><c>training</c> or <c>evaluation</c>, as the message names the batch.</param>
    /// <param name="epoch">The epoch it was read for, for the message.</param>
    /// <exception cref="InvalidDataException">It does not fit.</exception>
    internal void CheckFits(ModelSpec architecture, string source, int epoch)
    {
        if (Channels != architecture.InChannels)
        {
            throw new InvalidDataException(
                $"A {source} batch of epoch {epoch} has {Channels} channels but the model '{architecture.Name}' takes {architecture.InChannels}.");
        }
        foreach (var label in Labels)
        {
            if (label >= architecture.NumClasses || (label < 0 && string.Equals(source, "evaluation", StringComparison.Ordinal)))
            {
                throw new InvalidDataException(
                    $"A {source} batch of epoch {epoch} has label {label}, outside [0, {architecture.NumClasses}) for the model's {architecture.NumClasses} classes.");
            }
        }
        if (TeacherLogits is not null && TeacherClasses != architecture.NumClasses)
        {
            throw new InvalidDataException(
                $"A {source} batch of epoch {epoch} has teacher logits over {TeacherClasses} classes but the model '{architecture.Name}' has {architecture.NumClasses}.");
        }
    }

    /// <summary>Number of samples (N).</summary>
    public int Count => Labels.Length;

    /// <summary>Channels per sample (C).</summary>
    public int Channels { get; }

    /// <summary>Height in pixels (H).</summary>
    public int Height { get; }

    /// <summary>Width in pixels (W).</summary>
    public int Width { get; }
}
