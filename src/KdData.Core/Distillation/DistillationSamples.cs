using KdData.Datasets;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// Joins a dataset's labeled split with the selected soft targets: a soft target whose image is a labeled training
/// image becomes that image's cached teacher view (KD on labeled data); one whose image is in the held-out
/// evaluation split is dropped, so the student never trains on a test image even when the Labeler was pointed at
/// the whole dataset; every other image is a pseudo-labeled pool sample. Images are identified by their store
/// location plus key, so the same file reached through the dataset root and through the Labeler's input folder is
/// recognised as one image.
/// </summary>
public sealed class DistillationSamples
{
    private DistillationSamples(IReadOnlyList<IObjectStore> stores, IReadOnlyList<DistillationSample> labeled, IReadOnlyList<DistillationSample> pseudo, int labeledWithTeacher, int droppedHeldOut)
    {
        Stores = stores;
        Labeled = labeled;
        Pseudo = pseudo;
        LabeledWithTeacher = labeledWithTeacher;
        DroppedHeldOut = droppedHeldOut;
    }

    /// <summary>Image stores: index 0 is the dataset, then the shard sets' image sources.</summary>
    public IReadOnlyList<IObjectStore> Stores { get; }

    /// <summary>The labeled training images (with their cached views when the teacher labeled them too).</summary>
    public IReadOnlyList<DistillationSample> Labeled { get; }

    /// <summary>Pool images with the teacher's views only.</summary>
    public IReadOnlyList<DistillationSample> Pseudo { get; }

    /// <summary>Labeled images that also have teacher views.</summary>
    public int LabeledWithTeacher { get; }

    /// <summary>Images with soft targets that were dropped because they are in the evaluation split.</summary>
    public int DroppedHeldOut { get; }

    /// <summary>Joins <paramref name="train"/> and <paramref name="heldOut"/> (keys of <paramref name="dataset"/>) with <paramref name="softTargets"/>.</summary>
    public static DistillationSamples Build(IObjectStore dataset, IReadOnlyList<LabelRecord> train, IReadOnlyList<LabelRecord> heldOut, PseudoLabelSet? softTargets)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(heldOut);
        var stores = new List<IObjectStore> { dataset };
        // Keyed by the image's full location (a string per image, dropped with the dictionary when this returns).
        var viewsByImage = new Dictionary<string, (int Source, string Key, IReadOnlyList<DistillationView> Views)>(StringComparer.Ordinal);
        if (softTargets is not null)
        {
            stores.AddRange(softTargets.Sources.Select(s => s.Store));
            var roots = softTargets.Sources.Select(s => s.Store.Location).ToArray();
            var rows = softTargets.Columns;
            // Rows are ordered by source, key and view, so an image's views are one contiguous run.
            for (var first = 0; first < rows.Count;)
            {
                var source = rows.Source(first);
                var key = rows.Key(first);
                var end = first + 1;
                while (end < rows.Count && rows.Source(end) == source && string.Equals(rows.Key(end), key, StringComparison.Ordinal))
                {
                    end++;
                }

                var identity = Identity(roots[source], key);
                if (viewsByImage.TryGetValue(identity, out var image))
                {
                    // Two sources reaching one file (e.g. a folder and its parent): the image's views are its views.
                    image.Views = [.. image.Views, .. new CachedViewList(rows, first, end - first)];
                    viewsByImage[identity] = image;
                }
                else
                {
                    viewsByImage.Add(identity, (source + 1, key, new CachedViewList(rows, first, end - first)));
                }

                first = end;
            }
        }

        var labeled = new List<DistillationSample>(train.Count);
        var withTeacher = 0;
        foreach (var record in train)
        {
            var views = viewsByImage.Remove(Identity(dataset.Location, record.Key), out var image) ? image.Views : [];
            withTeacher += views.Count > 0 ? 1 : 0;
            labeled.Add(new DistillationSample(0, record.Key, record.Label, views));
        }

        var dropped = 0;
        foreach (var record in heldOut)
        {
            dropped += viewsByImage.Remove(Identity(dataset.Location, record.Key)) ? 1 : 0;
        }

        var pseudo = viewsByImage.Values
            .OrderBy(i => i.Source).ThenBy(i => i.Key, StringComparer.Ordinal)
            .Select(i => new DistillationSample(i.Source, i.Key, -1, i.Views))
            .ToList();
        return new DistillationSamples(stores, labeled, pseudo, withTeacher, dropped);
    }

    private static string Identity(StorageLocation root, string key) => root.ToString().TrimEnd('/') + "/" + key;
}
