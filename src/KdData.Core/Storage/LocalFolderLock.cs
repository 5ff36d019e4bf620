namespace KdData.Storage;

/// <summary>
/// The local store's write lock: one per object folder, the file <c>folder.lock</c> in its <c>.kddata</c> sidecar, held by
/// opening it with <see cref="FileShare.None"/> (flock on Unix). A check and the rename that follows it (create-only,
/// conditional replace, lease take-over) happen under it, which makes them atomic for every writer on this machine that
/// uses the store; the OS drops the lock with the handle, so a killed writer never leaves it held.
/// </summary>
internal static class LocalFolderLock
{
    private const string LockFileName = "folder.lock";

    /// <summary>Takes the lock of the folder whose sidecar is <paramref name="sidecar"/>; dispose the stream to release it.</summary>
    /// <exception cref="TimeoutException">Another writer held it for all of <paramref name="timeout"/>.</exception>
    public static async Task<FileStream> AcquireAsync(string sidecar, TimeSpan timeout, CancellationToken cancellationToken)
    {
        string lockPath = Path.Combine(sidecar, LockFileName);
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                Directory.CreateDirectory(sidecar);
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException ex) when (ex is not DirectoryNotFoundException)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new TimeoutException($"Timed out after {timeout} waiting for the folder lock '{lockPath}'.", ex);
                }
            }

#pragma warning disable CA5394 // Jitter only spreads out lock polling; no security relevance.
            await Task.Delay(TimeSpan.FromMilliseconds(5 + Random.Shared.Next(20)), cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5394
        }
    }
}
