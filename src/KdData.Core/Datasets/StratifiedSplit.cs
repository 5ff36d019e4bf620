namespace KdData.Datasets;

/// <summary>
/// Seeded, stratified selection of a labeled subset: from each class, the same fraction of its
/// items (rounded to nearest, at least one when the class is non-empty and the fraction is
/// positive). The choice depends only on the seed and the item indices, never on the runtime's
/// random generator, so the split is the same on every machine and .NET version.
/// </summary>
public static class StratifiedSplit
{
    /// <summary>
    /// Returns, for each item, whether it is in the labeled subset.
    /// </summary>
    /// <param name="labels">Class label of each item.</param>
    /// <param name="fraction">Share of each class to label, in [0, 1].</param>
    /// <param name="seed">Seed of the selection.</param>
    public static bool[] SelectLabeled(ReadOnlySpan<byte> labels, double fraction, ulong seed)
    {
        if (double.IsNaN(fraction) || fraction < 0 || fraction > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The labeled fraction must be between 0 and 1.");
        }

        var byClass = new Dictionary<byte, List<int>>();
        for (var i = 0; i < labels.Length; i++)
        {
            if (!byClass.TryGetValue(labels[i], out var members))
            {
                byClass[labels[i]] = members = [];
            }

            members.Add(i);
        }

        var selected = new bool[labels.Length];
        foreach (var members in byClass.Values)
        {
            var take = (int)Math.Round(members.Count * fraction, MidpointRounding.AwayFromZero);
            if (fraction > 0 && take == 0)
            {
                take = 1;
            }

            // Order each class by a keyed hash of the item index: a seeded shuffle without a PRNG.
            foreach (var index in members.OrderBy(i => Seeds.Mix(seed, (ulong)i)).ThenBy(i => i).Take(take))
            {
                selected[index] = true;
            }
        }

        return selected;
    }
}
