namespace KdData.Augmentation;

/// <summary>
/// FixMatch's strong augmentation of an already cropped and flipped image: RandAugment, then Cutout (Sohn et al. 2020,
/// section 2.3 and appendix D). Both draws derive from the one seed, so a run replays exactly.
/// </summary>
public sealed class StrongView(RandAugment randAugment, Cutout cutout)
{
    /// <summary>The strongly augmented copy of <paramref name="chw"/> (C x size x size, normalised).</summary>
    public float[] Apply(float[] chw, int channels, int size, ulong seed)
    {
        var augmented = randAugment.Apply(chw, channels, size, size, Seeds.Mix(seed, 0x5A7D));
        return cutout.Apply(augmented, channels, size, size, Seeds.Mix(seed, 0xC07));
    }
}
