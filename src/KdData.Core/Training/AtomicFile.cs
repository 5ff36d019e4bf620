namespace KdData.Training;

/// <summary>
/// Replaces a file so that readers (and a run resuming after a crash) see either the old or the new content,
/// never a prefix: the bytes go to a temporary file in the same directory, are flushed to the disk, and the
/// temporary file is renamed over the target (an atomic replace on POSIX file systems).
/// </summary>
internal static class AtomicFile
{
    public static async Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
            await using (stream.ConfigureAwait(false))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                // Flush(true) reaches the disk, so the rename cannot be persisted before the data.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
