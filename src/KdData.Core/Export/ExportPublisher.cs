using KdData.Storage;

namespace KdData.Export;

/// <summary>
/// Copies an export folder's files to a store location (for the Labeler, which takes <c>&lt;location&gt;model.json</c>
/// as its teacher). The checkpoint record goes last: a record in the store always refers to weights already complete
/// there. A re-export replaces the published files.
/// </summary>
public static class ExportPublisher
{
    /// <param name="store">The publish location.</param>
    /// <param name="folder">The local export folder.</param>
    /// <param name="files">The model files (weights, ONNX models, charts and the record), as named in the folder.</param>
    /// <param name="record">The checkpoint record's file name among <paramref name="files"/>; written after everything else.</param>
    /// <param name="cancellationToken">Cancels between and during the copies.</param>
    public static async Task PublishAsync(IObjectStore store, string folder, IEnumerable<string> files, string record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var order = files.Where(f => f != record).Append(ExportReport.FileName).Append(ModelCardWriter.FileName).Append(record);
        foreach (var file in order)
        {
            var content = File.OpenRead(Path.Combine(folder, file));
            await using (content.ConfigureAwait(false))
            {
                try
                {
                    await store.CreateAsync(file, content, cancellationToken).ConfigureAwait(false);
                }
                catch (ObjectAlreadyExistsException)
                {
                    // A re-export replaces the published files (the record, written last, decides what they are).
                    var existing = await store.GetPropertiesAsync(file, cancellationToken).ConfigureAwait(false);
                    content.Position = 0;
                    await store.ReplaceAsync(file, content, existing.ETag, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
