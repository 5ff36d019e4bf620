using KdData.Hosting;
using KdData.SoftTargets;
using KdData.Storage;

namespace KdData.Distillation;

/// <summary>
/// The image roots that shard rows' keys are relative to, each opened once and numbered in the order first met: a row
/// stores the number, not the store, and several location strings that open the same store share one number.
/// </summary>
/// <param name="stores">Opens the image roots.</param>
/// <param name="options">Where the roots are when the shards do not say (<see cref="ShardSelectionOptions.ImageRoot"/>), or where they
/// are instead (<see cref="ShardSelectionOptions.ImageRootOverride"/>).</param>
internal sealed class ImageSourceIndex(ObjectStoreFactory stores, ShardSelectionOptions options)
{
    private readonly Dictionary<string, int> _sourceIndex = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _sourceOfLocation = new(StringComparer.Ordinal);
    private readonly List<ImageSource> _sources = [];

    /// <summary>The roots opened so far; a row's source number indexes this list.</summary>
    public IReadOnlyList<ImageSource> Sources => _sources;

    /// <summary>
    /// The number of the image root that the keys of shard <paramref name="file"/> are relative to: the override, else the
    /// location its footer <paramref name="recorded"/>, else the configured image root.
    /// </summary>
    /// <exception cref="InvalidInputException">None of them is set, or the root cannot be opened.</exception>
    public int SourceOf(string? recorded, string file)
    {
        var location = options.ImageRootOverride ?? recorded ?? options.ImageRoot
            ?? throw new InvalidInputException(
                $"Shard '{file}' does not record where its keys are relative to (no '{ShardFooter.InputKey}' footer: an older Labeler wrote it); " +
                $"set {ShardSelectionOptions.SectionName}:ImageRoot to the location that Labeler read (its Labeler:Input).");
        if (_sourceOfLocation.TryGetValue(location, out var known))
        {
            return known;
        }

        var source = OpenImageRoot(location, file);
        if (!_sourceIndex.TryGetValue(source.Location, out var index))
        {
            index = _sources.Count;
            _sources.Add(source);
            _sourceIndex.Add(source.Location, index);
        }

        _sourceOfLocation[location] = index;
        return index;
    }

    private ImageSource OpenImageRoot(string location, string file)
    {
        try
        {
            var store = stores.Open(location);
            return new ImageSource(store.Location.ToString(), store);
        }
        catch (InvalidStorageLocationException e)
        {
            throw new InvalidInputException($"The image root of shard '{file}' ('{location}') cannot be opened: {e.Message}", e);
        }
    }
}
