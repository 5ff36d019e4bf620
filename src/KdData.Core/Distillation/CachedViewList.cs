using System.Collections;
using System.Diagnostics;

namespace KdData.Distillation;

/// <summary>
/// One image's cached teacher views: a contiguous run of rows in a <see cref="SoftTargetColumns"/>, so an image costs
/// this small object instead of a list of soft-target objects. Each access builds the view (a fresh soft target, a
/// few hundred bytes that die young: one per image per epoch).
/// </summary>
internal sealed class CachedViewList : IReadOnlyList<DistillationView>
{
    private readonly SoftTargetColumns _rows;
    private readonly int _first;

    public CachedViewList(SoftTargetColumns rows, int first, int count)
    {
        Debug.Assert(count > 0 && first >= 0 && first + count <= rows.Count, "a run of existing rows");
        _rows = rows;
        _first = first;
        Count = count;
    }

    public int Count { get; }

    public DistillationView this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
            return new DistillationView(_rows.Crop(_first + index), _rows.Target(_first + index));
        }
    }

    public IEnumerator<DistillationView> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
