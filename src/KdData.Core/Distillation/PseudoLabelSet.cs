using System.Collections;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// The rows selected from one or more committed shard sets, ready for the distill data path: each row
/// names its image by <see cref="PseudoLabel.Source"/> (a store) and key, and carries the crop to replay
/// and the teacher's soft target. Rows are held column by column (<see cref="SoftTargetColumns"/>, ~110 bytes
/// a row plus its key and ETag, shared by an image's views); <see cref="Rows"/> rebuilds each row on access.
/// </summary>
public sealed class PseudoLabelSet
{
    internal PseudoLabelSet(
        IReadOnlyList<string> classes,
        SoftTargetColumns rows,
        IReadOnlyList<ImageSource> sources,
        IReadOnlyList<ShardSetInfo> sets,
        SelectionReport report)
    {
        Classes = classes;
        Columns = rows;
        Rows = new RowList(rows);
        Sources = sources;
        Sets = sets;
        Report = report;
    }

    /// <summary>The student's class names (every shard was checked to have exactly these, in this order).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>
    /// Selected rows, ordered by source, key (ordinal) and view, so the order does not depend on file layout. Each
    /// access builds the row's object form (its <see cref="PseudoLabel.Target"/> is a fresh copy).
    /// </summary>
    public IReadOnlyList<PseudoLabel> Rows { get; }

    /// <summary>The same rows in their compact form, for the distill data path.</summary>
    internal SoftTargetColumns Columns { get; }

    /// <summary>Image stores; <see cref="PseudoLabel.Source"/> indexes this list.</summary>
    public IReadOnlyList<ImageSource> Sources { get; }

    /// <summary>The shard sets read, in the order they were given.</summary>
    public IReadOnlyList<ShardSetInfo> Sets { get; }

    /// <summary>What each selection rule kept and dropped, per class.</summary>
    public SelectionReport Report { get; }

    /// <summary>The store to fetch <paramref name="row"/>'s image from (with <see cref="PseudoLabel.Key"/>).</summary>
    public IObjectStore StoreOf(in PseudoLabel row) => Sources[row.Source].Store;

    private sealed class RowList(SoftTargetColumns columns) : IReadOnlyList<PseudoLabel>
    {
        public int Count => columns.Count;

        public PseudoLabel this[int index] => columns.Row(index);

        public IEnumerator<PseudoLabel> GetEnumerator()
        {
            for (var i = 0; i < columns.Count; i++)
            {
                yield return columns.Row(i);
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
