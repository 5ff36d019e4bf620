namespace KdData.Datasets;

/// <summary>One split as <see cref="IdxDatasetImporter"/> packs it into shards.</summary>
/// <param name="Prefix">Where its shards go, e.g. <c>train/</c>.</param>
/// <param name="Split">The manifest split its records get.</param>
/// <param name="Images">The IDX images the items index.</param>
/// <param name="Labels">The IDX labels, by item index.</param>
/// <param name="Items">The items of the split, in source order.</param>
/// <param name="WithLabels">Whether the shards carry the labels (not the pool's: its labels are withheld).</param>
internal sealed record PackedSplit(string Prefix, string Split, IdxArray Images, byte[] Labels, IReadOnlyList<int> Items, bool WithLabels);
