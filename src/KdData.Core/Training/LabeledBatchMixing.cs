using KdData.Augmentation;

namespace KdData.Training;

/// <summary>MixUp / CutMix on a <see cref="LabeledBatch"/>: <see cref="BatchMixer"/> works on pixels and labels, so the augmentation folder does not depend on training types.</summary>
public static class LabeledBatchMixing
{
    /// <summary>
    /// The mixed copy of <paramref name="batch"/> (pixels replaced, <see cref="LabeledBatch.Mix"/> set), or the batch
    /// itself when the draw for <paramref name="seed"/> leaves it unmixed or it has a single row.
    /// </summary>
    public static LabeledBatch Apply(this BatchMixer mixer, LabeledBatch batch, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(mixer);
        ArgumentNullException.ThrowIfNull(batch);
        return mixer.Mix(batch.Pixels, batch.Labels, batch.Channels, batch.Height, batch.Width, seed) is { } mixed
            ? batch.WithMix(mixed.Pixels, mixed.Mix)
            : batch;
    }
}
