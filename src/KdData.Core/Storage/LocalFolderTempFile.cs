namespace KdData.Storage;

/// <summary>
/// The temp files that local writes go through: content is written and flushed to disk as <c>name.guid.tmp</c> in the
/// object folder's <c>.kddata</c> sidecar (never listed), then renamed into place under <see cref="LocalFolderLock"/>, so a
/// partially written object is never visible under its real name.
/// </summary>
internal static class LocalFolderTempFile
{
    /// <summary>How much of the object's name a temp file keeps (the GUID makes it unique; this keeps it under name limits).</summary>
    private const int MaxTempNamePrefix = 100;

    /// <summary>Writes <paramref name="content"/> to a new temp file for the object at <paramref name="path"/>; returns its path.</summary>
    public static async Task<string> WriteAsync(string sidecar, string path, Stream content, CancellationToken cancellationToken)
    {
        string name = Path.GetFileName(path);
        if (name.Length > MaxTempNamePrefix)
        {
            name = name[..MaxTempNamePrefix];
        }

        string temp = Path.Combine(sidecar, $"{name}.{Guid.NewGuid():N}.tmp");
        try
        {
            var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                await content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
                await file.FlushAsync(cancellationToken).ConfigureAwait(false);

                // Durable before it becomes visible under its real name.
                file.Flush(flushToDisk: true);
            }
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        return temp;
    }

    /// <summary>Deletes a file if it can; a leftover temp (or lease) file is never listed and does not affect correctness.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp file is never listed and does not affect correctness.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
